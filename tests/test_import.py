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
from aicrc.interop import aicr_manifests, aicr_merge, yaml_v3
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
        "layers/gpu-operator-driver-config.aicr",
        "layers/monitoring.aicr",
        "manifests/gpu-operator/manifests/dcgm-metrics.yaml",
        "manifests/gpu-operator/manifests/gb200-eks-training/driver-config.yaml",
        "manifests/gpu-operator/manifests/gpu-operator-driver-config/driver-config.yaml",
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


def _driver_config(library: Library, query: dict[str, str]) -> str:
    gpu = next(c for c in library.compile(query).document["components"] if c["name"] == "gpu-operator")
    return next(m["content"] for m in gpu["manifests"] if m["name"].endswith("driver-config.yaml"))


def test_template_manifests_are_rendered_per_recipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """driver-config.yaml is a Go template reading gpu-operator's values, namespace and chart. Its
    `cdi` differs on GB200 training only, so that rendering goes in that overlay's layer and the
    other in a layer of its own, whose condition is everything else."""
    _, _, _, target = _import(tmp_path, capsys, str(FIXTURE))
    layer = (target / "layers" / "gpu-operator-driver-config.aicr").read_text(encoding="utf-8")
    assert (
        "layer gpu-operator-driver-config: environment when not (service == eks and accelerator == gb200 and intent == training) {" in layer
    )
    gb200 = (target / "layers" / "gb200-eks-training.aicr").read_text(encoding="utf-8")
    assert 'manifest gpu-operator "../manifests/gpu-operator/manifests/gb200-eks-training/driver-config.yaml"' in gb200
    library = _library(target)
    rendered = _driver_config(library, GB200_TRAINING)
    assert rendered.endswith(
        "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: driver-config\n  namespace: gpu-operator\n  labels:\n"
        '    helm.sh/chart: gpu-operator-25.10.1\ndata:\n  driver: 580.105.08\n  cdi: "true"\n  tolerations: |\n    - operator: Exists\n'
    )  # the tolerations the reference's bundler writes at the registry's toleration paths by default
    assert 'cdi: "<no value>"' in _driver_config(library, {"service": "eks", "intent": "training"})
    assert _driver_config(library, {}) == _driver_config(library, {"service": "gke"})


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
        ("registry-misspelt", ("E0701", "Registry components.1.helm.defaultNamepace: unknown field")),
        ("scheduling-misspelt", ("E0701", "Registry components.1.nodeScheduling.system.tolerationPath: unknown field")),
        ("validation-misspelt", ("E0701", "Registry components.4.validations.0.severty: unknown field")),
        ("catalog-misspelt", ("E0701", "ValidatorCatalog validators.2.phaze: unknown field")),
        ("unknown-check", ("E0701", "no validator `gang-schedulng` in validators/catalog.yaml")),
        ("check-in-wrong-phase", ("E0701", "`nccl-all-reduce-bw` is a performance check, named under conformance")),
        ("assert-file-missing", ("E0703", "`checks/gpu-operator/missing.yaml` does not exist")),
        ("registry-twice", ("E0203", "component `cert-manager` is in the registry twice")),
        ("selection-misspelt", ("E0701", "RecipeMetadata spec.validation.conformance.nodeSelection.maxNode: unknown field")),
        ("key-twice", ("E0701", "is not valid YAML: mapping key 'version' is given twice")),
        ("template-unsupported", ("E0704", "manifest template of `gpu-operator`: `range` is not supported")),
        ("template-fails", ("E0701", "manifest template of `gpu-operator`: can't evaluate field x in type string")),
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
    elif case == "registry-misspelt":
        _edit(data / "registry.yaml", "      defaultNamespace: gpu-operator", "      defaultNamepace: gpu-operator")
    elif case == "scheduling-misspelt":
        _edit(data / "registry.yaml", "tolerationPaths: [operator.tolerations]", "tolerationPath: [operator.tolerations]")
    elif case == "validation-misspelt":
        _edit(data / "registry.yaml", "severity: warning", "severty: warning")
    elif case == "catalog-misspelt":
        _edit(
            data / "validators" / "catalog.yaml",
            '    phase: conformance\n    description: "Gang',
            '    phaze: conformance\n    description: "Gang',
        )
    elif case == "unknown-check":
        _edit(training, "gang-scheduling]", "gang-schedulng]")
    elif case == "check-in-wrong-phase":
        _edit(training, "gang-scheduling]", "nccl-all-reduce-bw]")
    elif case == "selection-misspelt":
        _edit(training, "      checks: [platform-health", "      nodeSelection: {maxNode: 2}\n      checks: [platform-health")
    elif case == "key-twice":
        _edit(data / "components/gpu-operator/values.yaml", "  enabled: true\n", "  enabled: true\n  version: again\n")
    elif case == "registry-twice":
        _edit(data / "registry.yaml", "  - name: gpu-operator\n", "  - name: cert-manager\n    displayName: x\n  - name: gpu-operator\n")
    elif case == "assert-file-missing":
        _edit(data / "registry.yaml", "checks/gpu-operator/health-check.yaml", "checks/gpu-operator/missing.yaml")
    elif case == "template-unsupported":
        _edit(data / "components/gpu-operator/manifests/driver-config.yaml", "data:\n", "data:\n{{ range $gpu }}x{{ end }}\n")
    elif case == "template-fails":
        _edit(data / "components/gpu-operator/manifests/driver-config.yaml", "$gpu.driver.version |", "$gpu.driver.version.x |")
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


@pytest.mark.parametrize("relative", ["overlays/eks.yaml", "components/gpu-operator/manifests/driver-config.yaml"])
def test_a_file_that_is_not_utf8_is_located_at_its_byte(relative: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An overlay (read as YAML) and a manifest (read as text) alike: E0103 at the line and column
    of the first byte that is not UTF-8, not at the top of the file."""
    data = _hostile(tmp_path, relative)
    target = data / relative
    lines = target.read_bytes().split(b"\n")
    lines[2] = lines[2][:3] + b"\xff" + lines[2][3:]
    target.write_bytes(b"\n".join(lines))
    code, _, err, out = _import(tmp_path, capsys, str(data))
    assert code == 1 and not out.exists()
    assert "error[E0103]" in err and "byte 0xff" in err, err
    assert f"--> {target.resolve().as_posix()}:3:4" in err, err
    assert "Traceback" not in err


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


def _overlay(name: str, criteria: dict[str, str], refs: str, base: str | None = None) -> str:
    lines = ["kind: RecipeMetadata", "apiVersion: aicr.nvidia.com/v1alpha1", f"metadata:\n  name: {name}", "spec:"]
    lines += [f"  base: {base}"] if base else []
    lines += ["  criteria:", *(f"    {k}: {v}" for k, v in criteria.items())] if criteria else []
    return "\n".join([*lines, "  componentRefs:", refs]) + "\n"


def test_each_rendering_is_attached_exactly_where_the_reference_produces_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A template whose value eks sets, eks-training sets back and gke sets again: two renderings,
    each wherever (and only where) the reference renders it so, for every combination of values."""
    data = tmp_path / "data"
    (data / "overlays").mkdir(parents=True)
    (data / "components" / "tuner").mkdir(parents=True)
    (data / "components" / "tuner" / "mode.yaml").write_text(
        '{{- $t := index .Values "tuner" }}\nmode: {{ $t.mode | default "plain" }}\nnamespace: {{ .Release.Namespace }}\n', encoding="utf-8"
    )
    ref = "    - name: tuner\n      type: Helm\n"
    overlays = {
        "base": _overlay("base", {}, f"{ref}      namespace: tuning\n      manifestFiles: [components/tuner/mode.yaml]"),
        "eks": _overlay("eks", {"service": "eks"}, f"{ref}      overrides: {{mode: fast}}"),
        "eks-training": _overlay("eks-training", {"service": "eks", "intent": "training"}, f"{ref}      overrides: {{mode: plain}}", "eks"),
        "gke": _overlay("gke", {"service": "gke"}, f"{ref}      overrides: {{mode: fast}}"),
    }
    for name, text in overlays.items():
        (data / "overlays" / f"{name}.yaml").write_text(text, encoding="utf-8")
    code, out, err, target = _import(tmp_path, capsys, str(data))
    assert code == 0 and "all match" in out, err
    layers = {p.name: p.read_text(encoding="utf-8") for p in sorted((target / "layers").glob("tuner-*.aicr"))}
    assert [line for text in layers.values() for line in text.splitlines() if line.startswith("layer")] == [
        "layer tuner-mode-2: environment when service == eks and intent != training or service == gke {",
        "layer tuner-mode: environment when service != eks and service != gke or service == eks and intent == training {",
    ]  # (`and` binds tighter than `or`: `aicrc fmt` leaves out the parentheses)
    library = _library(target)
    for service in (None, "eks", "gke", "kind"):
        for intent in (None, "training", "inference"):
            query = {k: v for k, v in {"service": service, "intent": intent}.items() if v is not None}
            tuner = next(c for c in library.compile(query).document["components"] if c["name"] == "tuner")
            fast = service == "gke" or (service == "eks" and intent != "training")
            assert [m["content"] for m in tuner["manifests"]] == [f"\nmode: {'fast' if fast else 'plain'}\nnamespace: tuning\n"], query


def test_overlay_manifests_go_in_their_layers_and_templates_need_the_whole_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On our library an overlay's manifest is attached by its layer as it is; a template cannot
    be rendered without the reference's base values, so it is refused, pointing at the overlay."""
    partner = tmp_path / "partner"
    (partner / "overlays").mkdir(parents=True)
    (partner / "components" / "gpu-operator").mkdir(parents=True)
    (partner / "components" / "gpu-operator" / "extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n", "utf-8"
    )
    overlay = partner / "overlays" / "acme-eks.yaml"
    overlay.write_text(
        "kind: RecipeMetadata\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata:\n  name: acme-eks\nspec:\n"
        "  criteria:\n    service: eks\n  componentRefs:\n    - name: gpu-operator\n      type: Helm\n"
        "      manifestFiles: [components/gpu-operator/extra.yaml]\n",
        encoding="utf-8",
    )
    code, _, err, target = _import(tmp_path, capsys, str(partner))
    assert code == 0, err
    layer = (target / "layers" / "acme-eks.aicr").read_text(encoding="utf-8")
    assert 'manifest gpu-operator "../manifests/gpu-operator/extra.yaml"' in layer
    shutil.rmtree(target)
    (partner / "components" / "gpu-operator" / "extra.yaml").write_text("name: {{ .Release.Namespace }}\n", "utf-8")
    code, _, err, target = _import(tmp_path, capsys, str(partner))
    assert code == 1 and not target.exists()
    assert "error[E0704]: manifest `components/gpu-operator/extra.yaml` of `gpu-operator` is a template" in err
    assert f"--> {overlay.as_posix()}:11:23" in err


@pytest.mark.parametrize(
    ("text", "value"),
    [  # what gopkg.in/yaml.v3 v3.0.1 reads each plain scalar as (Go's %T and %v, by a Go program)
        ("true", True),
        ("TRUE", True),
        ("yes", "yes"),
        ("on", "on"),
        ("n", "n"),
        ("~", None),
        ("0755", 493),
        ("0o755", 493),
        ("0x1F", 31),
        ("0b101", 5),
        ("1_000", 1000),
        ("1_", 1),
        ("08", 8.0),
        ("09.5", 9.5),
        ("1e3", 1000.0),
        ("1.", 1.0),
        ("-.5", -0.5),
        (".inf", float("inf")),
        ("1:20", "1:20"),
        (".1_", ".1_"),
        (".19_1", 0.191),
        ("1e", "1e"),
        ("0x", "0x"),
        ("99999999999999999999", 1e20),
        ("18446744073709551615", 18446744073709551615),
        ("-9223372036854775809", -9.223372036854776e18),
        ("2001-12-14", "2001-12-14T00:00:00Z"),
        ("2001-12-14T21:59:43.10-05:00", "2001-12-14T21:59:43.1-05:00"),
        ("2001-12-14 21:59:43.5", "2001-12-14T21:59:43.5Z"),
        ("2001-12-14T21:59:43", "2001-12-14T21:59:43"),
        ("2001-2-30", "2001-2-30"),
    ],
)
def test_values_read_as_the_reference_reads_them(text: str, value: object) -> None:
    """Not as PyYAML's YAML 1.1 would (`yes` a boolean, `1:20` the integer 80, `1e3` a string);
    a timestamp is the text the reference writes for the time it reads."""
    read = yaml_v3.Loader(f"k: {text}\n").get_single_data()["k"]
    assert type(read) is type(value) and read == value
