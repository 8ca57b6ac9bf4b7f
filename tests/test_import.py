"""`aicrc import` and `compile --format aicr` against the reference system's formats.

The fixture (tests/fixtures/aicr) is a small data folder in the reference's format. The expected
recipes below are worked out by hand from the reference's documented rules, so they check the
rules' implementation (`aicr_merge`) as well as the import."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from aicrc.api import Library, load_library
from aicrc.cli import main
from aicrc.compiler.load import loader
from aicrc.interop import aicr_manifests, aicr_merge
from aicrc.interop.aicr_data import read_data, values_file
from aicrc.interop.importer import compare
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "aicr"
GB200_TRAINING = {"service": "eks", "accelerator": "gb200", "intent": "training"}


def _import(tmp_path: Path, capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, str, str, Path]:
    out = tmp_path / "imported"
    code = main(["import", *paths, "-o", str(out)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err, out


def _library(out: Path) -> Library:
    return Library(loader.load_library((loader.SearchRoot("imported", out),)))


def test_reference_rules_by_hand() -> None:
    """GB200 training: base, then `monitoring` (pins nothing), then the chain eks -> eks-training
    -> gb200-eks-training. gpu-operator's values: its values.yaml, deep-merged with the last
    valuesFile (values-eks-training.yaml), then the overrides merged shallowly, so gb200's `cdi`
    replaced eks-training's `cdi: {default: false}`."""
    data = read_data([str(FIXTURE)])
    result = aicr_merge.resolve(data.overlays, GB200_TRAINING, lambda path: values_file(data, path))
    assert result.applied == ["base", "monitoring", "eks", "eks-training", "gb200-eks-training"]
    assert result.values["gpu-operator"] == {
        "driver": {"enabled": True, "version": "580.105.08", "rdma": {"enabled": True}},
        "toolkit": {"enabled": True, "env": [{"name": "ACCEPT_NVIDIA_VISIBLE_DEVICES_ENVVAR_WHEN_UNPRIVILEGED", "value": "false"}]},
        "nvidia.com/gpu": 1,
        "hostPaths": {"driverInstallDir": "/run/nvidia/driver"},
        "cdi": {"enabled": True},
        "gdrcopy": {"enabled": True},
    }
    assert result.order == ["cert-manager", "kube-prometheus-stack", "prometheus-adapter", "skyhook-customizations", "gpu-operator"]
    assert {name: c.value for name, c in result.constraints.items()} == {
        "K8s.server.version": ">= 1.32.4",
        "OS.sysctl./proc/sys/kernel/osrelease": ">= 6.8",
    }
    assert sorted(result.validation) == ["conformance", "performance"]
    assert result.validation["conformance"].checks == ["platform-health", "gang-scheduling"]
    inference = aicr_merge.resolve(data.overlays, {"service": "eks", "intent": "inference"}, lambda path: values_file(data, path))
    assert "gpu-operator" in inference.order and "gpu-operator" not in inference.deployed  # `enabled: false`


def test_import_compiles_to_the_reference_recipes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, target = _import(tmp_path, capsys, str(FIXTURE))
    assert code == 0
    assert err == "warning: gb200-eks-training: gpu-operator.cdi.default: reference (absent), aicrc false\n"
    assert "compiled 4 overlay criteria both ways" in out
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == [
        "components/cert-manager.aicr",
        "components/gpu-operator.aicr",
        "components/kube-prometheus-stack.aicr",
        "components/prometheus-adapter.aicr",
        "components/skyhook-customizations.aicr",
        "dimensions.aicr",
        "layers/base.aicr",
        "layers/eks-inference.aicr",
        "layers/eks-training.aicr",
        "layers/eks.aicr",
        "layers/gb200-eks-training.aicr",
        "layers/monitoring.aicr",
        "manifests/gpu-operator/manifests/dcgm-metrics.yaml",
        "manifests/skyhook-customizations/manifests/no-op.yaml",
    ]
    assert main(["fmt", "--check", str(target)]) == 0
    data = read_data([str(FIXTURE)])
    library = _library(target)
    queries = [GB200_TRAINING, {"service": "eks"}, {"service": "eks", "intent": "inference"}, {"service": "gke", "intent": "training"}, {}]
    for query in queries:
        theirs = aicr_merge.resolve(data.overlays, query, lambda path: values_file(data, path), data.registry)
        ours = library.compile(query).document
        expected = ["gpu-operator.cdi.default: reference (absent), aicrc false"] if query == GB200_TRAINING else []
        assert compare(theirs, ours, aicr_manifests.bundle(data, theirs)) == expected, query
    manifests = next(c for c in library.compile(GB200_TRAINING).document["components"] if c["name"] == "skyhook-customizations")[
        "manifests"
    ]
    assert manifests[0]["content"] == (FIXTURE / "components/skyhook-customizations/manifests/no-op.yaml").read_text(encoding="utf-8")


def _hostile(tmp_path: Path, change: str, body: str | bytes | None = None) -> Path:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    target = data / change
    if isinstance(body, bytes):
        target.write_bytes(body)
    elif body is not None:
        target.write_text(body, encoding="utf-8")
    return data


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("case", "code_and_text"),
    [
        ("unknown-field", ("E0701", "RecipeMetadata spec.componentRefs.0.overides: unknown field")),
        ("cycle", ("E0702", "base chain of `eks` loops")),
        ("escape", ("E0703", "escapes the data folder")),
        ("missing-values", ("E0703", "does not exist")),
        ("not-yaml", ("E0701", "is not valid YAML")),
        ("wrong-kind", ("E0701", "RecipeMetadata kind")),
        ("huge", ("E0105", "MB; aicrc reads files up to")),
        ("version-change", ("E0704", "changes the version of `gpu-operator`")),
    ],
)
def test_hostile_input_fails_clearly_and_writes_nothing(
    case: str, code_and_text: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _hostile(tmp_path, "overlays/eks.yaml")
    eks, training = data / "overlays" / "eks.yaml", data / "overlays" / "eks-training.yaml"
    if case == "unknown-field":
        _edit(eks, "      overrides:", "      overides:")
    elif case == "cycle":
        _edit(eks, "spec:\n", "spec:\n  base: eks-training\n")
    elif case == "escape":
        _edit(training, "valuesFile: components/gpu-operator/values-eks-training.yaml", "valuesFile: ../../../../etc/passwd")
    elif case == "missing-values":
        _edit(training, "values-eks-training.yaml", "values-missing.yaml")
    elif case == "not-yaml":
        eks.write_text("kind: RecipeMetadata\nspec: [unclosed\n", encoding="utf-8")
    elif case == "wrong-kind":
        _edit(eks, "kind: RecipeMetadata", "kind: RecipeResult")
    elif case == "huge":
        with eks.open("ab") as handle:
            handle.truncate(50 * 1024 * 1024)  # 50 MB (sparse): refused before it is read
    elif case == "version-change":
        _edit(training, "      type: Helm\n      valuesFile", "      type: Helm\n      version: v24.9.0\n      valuesFile")
    code, _, err, out = _import(tmp_path, capsys, str(data))
    code_expected, text = code_and_text
    assert code == 1
    assert f"error[{code_expected}]" in err and text in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_unknown_field_points_at_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _hostile(tmp_path, "overlays/eks.yaml")
    _edit(data / "overlays" / "eks.yaml", "      overrides:", "      overides:")
    _, _, err, _ = _import(tmp_path, capsys, str(data))
    assert f"--> {(data / 'overlays' / 'eks.yaml').as_posix()}:14:7" in err
    assert "14 |       overides:" in err


def test_import_overlay_onto_the_standard_library(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a base, the overlays extend our library: their componentRefs configure our
    components, and their layers sit above ours."""
    partner = tmp_path / "partner"
    (partner / "overlays").mkdir(parents=True)
    (partner / "overlays" / "acme-eks.yaml").write_text(
        "kind: RecipeMetadata\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata:\n  name: acme-eks\nspec:\n"
        "  criteria:\n    service: eks\n    accelerator: gb200\n  componentRefs:\n    - name: gpu-operator\n      type: Helm\n"
        '      overrides:\n        driver:\n          version: "580.200.01"\n',
        encoding="utf-8",
    )
    code, out, _, target = _import(tmp_path, capsys, str(partner))
    assert code == 0 and "--overlay" in out
    compiled = load_library([str(target)], use_env=False).compile_file(ROOT / "recipes" / "blackwell-eks-training.aicr")
    gpu = next(c for c in compiled.document["components"] if c["name"] == "gpu-operator")
    assert gpu["values"]["driver"]["version"] == "580.200.01"
    assert "acme-eks" in compiled.document["metadata"]["layers"]


def test_compile_format_aicr_is_a_recipe_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = ROOT / "recipes" / "blackwell-eks-training.aicr"
    # the recipe has manifests, which the RecipeResult names as files beside it: so -o, not stdout
    assert main(["compile", str(recipe), "--format", "aicr", "-o", str(tmp_path / "recipe.yaml")]) == 0
    assert capsys.readouterr().out == ""
    result: dict[str, Any] = yaml.safe_load((tmp_path / "recipe.yaml").read_text(encoding="utf-8"))
    compiled = load_library(use_env=False).compile_file(recipe)
    document = compiled.document
    assert (result["kind"], result["apiVersion"]) == ("RecipeResult", "aicr.nvidia.com/v1alpha1")
    assert result["criteria"] == {"service": "eks", "accelerator": "gb200", "os": "ubuntu", "intent": "training", "platform": "kubeflow"}
    assert result["metadata"]["appliedOverlays"] == document["metadata"]["layers"]
    assert [r["name"] for r in result["componentRefs"]] == sorted(c["name"] for c in document["components"])
    assert result["deploymentOrder"] == document["deploymentOrder"]
    assert {"name": "K8s.server.version", "value": ">= 1.32.4"} in result["constraints"]
    # the reference's own rules, read back: self-contained overrides give the same values and order
    refs = {r["name"]: aicr_merge.ComponentRef.model_validate(r) for r in result["componentRefs"]}
    for component in document["components"]:
        assert aicr_merge.helm_values(refs[component["name"]], lambda _: None) == component["values"]
    assert aicr_merge.topological_order(refs) == document["deploymentOrder"]
    assert result["validation"]["conformance"]["checks"] == document["checks"]["conformance"]
