"""Node placement at bundle time (`--system-node-selector` ... `--nodes`): the values of each
component carry the selectors, tolerations and node count at exactly the paths the reference's
registry declares; without the flags nothing changes; malformed flags are usage errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import aicrc
from aicrc.bundle.build import build_bundle
from aicrc.bundle.placement import Placement, Toleration, parse_selectors, parse_tolerations, placement_paths
from aicrc.bundle.recipe import Recipe, from_document
from aicrc.cli import main
from tests.conftest import ROOT

REGISTRY = ROOT / "tests" / "reference" / "aicr-v0.11.1" / "data" / "registry.yaml"
RECIPES = ("blackwell-eks-training", "h100-aks-inference", "h100-gke-training", "kind-inference")
SYSTEM = {"role": "system", "pool": "core"}
ACCELERATED = {"nodeGroup": "gpu-nodes"}
SYSTEM_TOLERATION = {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}
ACCELERATED_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
PLACEMENT = Placement(
    system_selector=SYSTEM,
    system_tolerations=(Toleration("dedicated", None, "NoExecute"),),
    accelerated_selector=ACCELERATED,
    accelerated_tolerations=(Toleration("nvidia.com/gpu", "present", "NoSchedule"),),
    nodes=8,
)
NONE = Placement({}, (), {}, (), 0)


@pytest.fixture(scope="module")
def registry() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(REGISTRY.read_text())
    return {c["name"]: c.get("nodeScheduling") or {} for c in document["components"]}


@pytest.fixture(scope="module", params=RECIPES)
def recipe(request: pytest.FixtureRequest) -> Recipe:
    library = aicrc.load_library(use_env=False)
    return from_document(library.compile_file(ROOT / "recipes" / f"{request.param}.aicr").document)


def at(values: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        values = values[key]
    return values


def test_the_paths_are_the_reference_registrys(registry: dict[str, dict[str, Any]]) -> None:
    ours = placement_paths()
    for name, scheduling in registry.items():
        for role in ("system", "accelerated"):
            given = scheduling.get(role) or {}
            declared = ours.get(name, {}).get(role, {})
            assert declared.get("nodeSelector", []) == given.get("nodeSelectorPaths", []), (name, role)
            assert declared.get("tolerations", []) == given.get("tolerationPaths", []), (name, role)
        assert ours.get(name, {}).get("nodeCount", []) == scheduling.get("nodeCountPaths", []), name
    assert set(ours) <= set(registry)


def test_values_carry_the_placement_at_the_registrys_paths(recipe: Recipe, registry: dict[str, dict[str, Any]]) -> None:
    bundle = build_bundle(recipe, ["helm"], place=PLACEMENT)
    placed = 0
    for component in recipe.components:
        if component.kind != "helm":
            continue
        values = yaml.safe_load(bundle[f"{component.name}/values.yaml"].content)
        scheduling = registry.get(component.name, {})
        accelerated = scheduling.get("accelerated") or {}
        for path in (scheduling.get("system") or {}).get("nodeSelectorPaths", []):
            assert at(values, path) == SYSTEM, (component.name, path)
            placed += 1
        for path in (scheduling.get("system") or {}).get("tolerationPaths", []):
            # A path both roles declare takes the accelerated tolerations, as in the reference.
            expected = ACCELERATED_TOLERATION if path in accelerated.get("tolerationPaths", []) else SYSTEM_TOLERATION
            assert at(values, path) == [expected], (component.name, path)
            placed += 1
        for path in accelerated.get("nodeSelectorPaths", []):
            assert at(values, path) == ACCELERATED, (component.name, path)
        for path in accelerated.get("tolerationPaths", []):
            assert at(values, path) == [ACCELERATED_TOLERATION], (component.name, path)
        for path in scheduling.get("nodeCountPaths", []):
            assert at(values, path) == 8
    assert placed > 0


def test_other_values_are_kept(recipe: Recipe) -> None:
    plain = build_bundle(recipe, ["helm"])
    placed = build_bundle(recipe, ["helm"], place=PLACEMENT)
    gpu = next((c for c in recipe.components if c.name == "gpu-operator"), None)
    if gpu is None:
        pytest.skip("no gpu-operator in this recipe")
    before = yaml.safe_load(plain["gpu-operator/values.yaml"].content)
    after = yaml.safe_load(placed["gpu-operator/values.yaml"].content)
    assert after["driver"] == before["driver"]
    assert after["operator"]["resources"] == before["operator"]["resources"]
    assert recipe.components == from_document(recipe.document).components  # the recipe itself is untouched


def test_without_flags_nothing_is_injected(recipe: Recipe) -> None:
    plain = build_bundle(recipe, ["helm"])
    assert dict(build_bundle(recipe, ["helm"], place=NONE)) == dict(plain)
    for component in recipe.components:
        if component.kind == "helm":
            values = yaml.safe_load(plain[f"{component.name}/values.yaml"].content) or {}
            assert values == dict(component.values)


def test_the_command_line(tmp_path: Path) -> None:
    output = tmp_path / "bundle"
    code = main(
        [
            "bundle",
            "blackwell-eks-training",
            "-o",
            str(output),
            "--system-node-selector",
            "role=system",
            "--system-node-selector",
            "pool=core",
            "--system-node-toleration",
            "dedicated:NoExecute",
            "--accelerated-node-selector",
            "nodeGroup=gpu-nodes",
            "--accelerated-node-toleration",
            "nvidia.com/gpu=present:NoSchedule",
            "--nodes",
            "8",
        ]
    )
    assert code == 0
    gpu = yaml.safe_load((output / "gpu-operator" / "values.yaml").read_text())
    assert gpu["daemonsets"]["nodeSelector"] == ACCELERATED and gpu["operator"]["nodeSelector"] == SYSTEM
    assert gpu["daemonsets"]["tolerations"] == [ACCELERATED_TOLERATION]
    skyhook = yaml.safe_load((output / "skyhook-operator" / "values.yaml").read_text())
    assert skyhook["estimatedNodeCount"] == 8 and skyhook["controllerManager"]["selectors"] == SYSTEM
    assert main(["verify", str(output)]) == 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--system-node-selector", "role"], "--system-node-selector 'role': expected KEY=VALUE"),
        (["--accelerated-node-selector", "=gpu"], "--accelerated-node-selector '=gpu': expected KEY=VALUE"),
        (["--accelerated-node-toleration", "nvidia.com/gpu"], "expected KEY[=VALUE]:EFFECT"),
        (["--accelerated-node-toleration", "a:b:NoSchedule"], "expected KEY[=VALUE]:EFFECT"),
        (["--system-node-toleration", "a=b:Never"], "the effect is one of NoSchedule, PreferNoSchedule, NoExecute"),
        (["--nodes", "-1"], "--nodes -1: a number of nodes is 0 (unset) or more"),
    ],
)
def test_malformed_flags_are_usage_errors(flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "blackwell-eks-training", "-o", str(tmp_path / "out"), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_flags_read_as_the_references() -> None:
    assert parse_selectors("--x", ["a=b", "c=d=e", "a=f"]) == {"a": "f", "c": "d=e"}  # last wins; the value may hold `=`
    assert parse_tolerations("--x", ["k:NoSchedule", "k=:NoExecute", "nvidia.com/gpu=present:PreferNoSchedule"]) == (
        Toleration("k", None, "NoSchedule"),
        Toleration("k", None, "NoExecute"),  # an empty value is Exists, as in the reference
        Toleration("nvidia.com/gpu", "present", "PreferNoSchedule"),
    )
