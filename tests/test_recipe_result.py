"""`aicrc compile FILE --format aicr -o DIR/recipe.yaml`: the reference system's RecipeResult, with
the recipe's manifests written beside it.

The reference's bundler reads `manifestFiles` from its data folder (built in, or `--data DIR`),
never from the RecipeResult, so DIR is written as a data folder: the manifests under
`manifests/<component>/` and an empty `registry.yaml`. With AICR_BIN naming the reference's `aicr`
binary (built from github.com/NVIDIA/aicr at v0.11.1 with `go build ./cmd/aicr`), its bundler is run on every shipped recipe."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from aicrc.api import Compilation, load_library
from aicrc.cli import main
from aicrc.compiler.emit.recipe_result import data_files
from tests.conftest import GOLDEN, ROOT

RECIPES = sorted((ROOT / "recipes").glob("*.aicr"))
TRAINING = ROOT / "recipes" / "blackwell-eks-training.aicr"
# The reference's component registry at the release the binary is built from: where its bundler
# writes tolerations into the values it bundles.
REFERENCE_REGISTRY = ROOT / "tests" / "reference" / "aicr-v0.11.1" / "data" / "registry.yaml"


def _compile(recipe: Path, folder: Path) -> tuple[dict[str, Any], Compilation]:
    assert main(["compile", str(recipe), "--format", "aicr", "-o", str(folder / "recipe.yaml")]) == 0
    result: dict[str, Any] = yaml.safe_load((folder / "recipe.yaml").read_text(encoding="utf-8"))
    return result, load_library(use_env=False).compile_file(recipe)


def _tree(folder: Path) -> set[str]:
    """Every file and folder under `folder`, hidden ones included, as POSIX paths relative to it."""
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")}


def _written(files: dict[str, str]) -> set[str]:
    """`files` with the folders that hold them."""
    paths = {"recipe.yaml", *files}
    return paths | {parent.as_posix() for path in files for parent in PurePosixPath(path).parents if parent.name}


# ---- the output, always ---------------------------------------------------------------------------


@pytest.mark.parametrize("recipe", [TRAINING, ROOT / "recipes" / "h100-gke-training.aicr"], ids=lambda p: p.stem)
def test_manifests_are_written_beside_the_recipe_result(recipe: Path, tmp_path: Path) -> None:
    result, compiled = _compile(recipe, tmp_path)
    components = {c["name"]: c for c in compiled.document["components"]}
    named = [(ref["name"], path) for ref in result["componentRefs"] for path in ref.get("manifestFiles", [])]
    assert len(named) == sum(len(c["manifests"]) for c in components.values()) > 0
    for component, path in named:
        relative = PurePosixPath(path)
        assert not relative.is_absolute() and ".." not in relative.parts
        assert relative.parts[:2] == ("manifests", component)
    for ref in result["componentRefs"]:  # each file holds that component's manifest, in its order
        texts = [(tmp_path / path).read_text(encoding="utf-8") for path in ref.get("manifestFiles", [])]
        assert texts == [m["content"] for m in components[ref["name"]]["manifests"]]
    registry = yaml.safe_load((tmp_path / "registry.yaml").read_text(encoding="utf-8"))
    assert registry == {"apiVersion": "aicr.nvidia.com/v1alpha1", "kind": "ComponentRegistry", "components": []}
    # nothing else: no temporary folder left, no file the RecipeResult does not name
    assert _tree(tmp_path) == _written({path: "" for _, path in named} | {"registry.yaml": ""})
    # a second compile into the same folder replaces the files with the same ones
    before = {path: (tmp_path / path).read_bytes() for path in _tree(tmp_path) if (tmp_path / path).is_file()}
    _compile(recipe, tmp_path)
    assert {path: (tmp_path / path).read_bytes() for path in _tree(tmp_path) if (tmp_path / path).is_file()} == before


@pytest.mark.parametrize("output", [[], ["-o", "-"]], ids=["no -o", "-o -"])
def test_manifests_need_a_folder(
    output: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where nothing may be written
    assert main(["compile", str(TRAINING), "--format", "aicr", *output]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "the recipe has 3 manifests" in captured.err and "give -o DIR/recipe.yaml" in captured.err
    assert "Traceback" not in captured.err
    assert _tree(tmp_path) == set()


def test_a_recipe_without_manifests_stands_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AICRC_STDLIB", str(GOLDEN / "lib"))  # its generic recipe has no manifests
    assert main(["compile", "--service", "kind", "--format", "aicr"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["kind"] == "RecipeResult"
    assert not any("manifestFiles" in ref for ref in printed["componentRefs"])
    assert main(["compile", "--service", "kind", "--format", "aicr", "-o", str(tmp_path / "recipe.yaml")]) == 0
    assert _tree(tmp_path) == {"recipe.yaml"}
    assert yaml.safe_load((tmp_path / "recipe.yaml").read_text(encoding="utf-8")) == printed


def test_manifests_of_one_component_with_the_same_file_name() -> None:
    """The reference's bundler keeps only a manifest's file name: two of one component stay apart."""
    document = {
        "components": [
            {"name": "a", "manifests": [{"name": "x/m.yaml", "content": "1"}, {"name": "y/m.yaml", "content": "2"}]},
            {"name": "b", "manifests": [{"name": "x/m.yaml", "content": "1"}, {"name": "LICENSE", "content": "3"}]},
            {"name": "c", "manifests": []},
        ]
    }
    assert data_files(document) == {
        "manifests/a/m.yaml": "1",
        "manifests/a/m-2.yaml": "2",
        "manifests/b/m.yaml": "1",
        "manifests/b/LICENSE": "3",
        "registry.yaml": data_files(document)["registry.yaml"],
    }
    assert data_files({"components": [{"name": "c", "manifests": []}]}) == {}


def test_nothing_is_written_when_the_recipe_has_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "src" / "broken.aicr"
    broken.parent.mkdir()
    broken.write_text("recipe broken { service = nowhere }\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    assert main(["compile", str(broken), "--format", "aicr", "-o", str(out / "recipe.yaml")]) == 1
    assert "error[" in capsys.readouterr().err
    assert _tree(out) == set()


@pytest.mark.parametrize(
    "obstacle",
    ["manifests/kubeflow-trainer/torch-distributed-runtime.yaml/", "manifests/skyhook-customizations", "registry.yaml/"],
    ids=["a folder where a manifest goes", "a file where a folder goes", "a folder where the registry goes"],
)
def test_a_write_that_fails_replaces_nothing(obstacle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "recipe.yaml").write_text("old\n", encoding="utf-8")
    place = tmp_path / obstacle
    place.parent.mkdir(parents=True, exist_ok=True)
    if obstacle.endswith("/"):
        place.mkdir()
    else:
        place.write_text("mine\n", encoding="utf-8")
    before = _tree(tmp_path)
    assert main(["compile", str(TRAINING), "--format", "aicr", "-o", str(tmp_path / "recipe.yaml")]) == 1
    err = capsys.readouterr().err
    assert "error[E0104]: cannot write" in err and obstacle.rstrip("/").split("/")[-1] in err
    assert "Traceback" not in err
    assert (tmp_path / "recipe.yaml").read_text(encoding="utf-8") == "old\n"
    # no manifest or registry written, no temporary folder left (folders for the files may be made)
    assert {p for p in _tree(tmp_path) - before if (tmp_path / p).is_file()} == set()
    assert not any(PurePosixPath(p).name.startswith(".") for p in _tree(tmp_path))


@pytest.mark.parametrize("name", ["registry.yaml", "manifests"])
def test_the_output_may_not_take_the_name_of_a_file_beside_it(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(TRAINING), "--format", "aicr", "-o", str(tmp_path / name)]) == 2
    assert f"{name} is written beside the RecipeResult too" in capsys.readouterr().err
    assert _tree(tmp_path) == set()


# ---- the reference's bundler, with AICR_BIN ------------------------------------------------------

AICR_BIN = os.environ.get("AICR_BIN", "")
needs_reference = pytest.mark.skipif(
    not AICR_BIN,
    reason="AICR_BIN does not name the reference's aicr binary (build it from github.com/NVIDIA/aicr at v0.11.1: `go build ./cmd/aicr`)",
)
# What the reference's bundler writes at every toleration path of its registry when `aicr bundle`
# is given no --system-node-toleration / --accelerated-node-toleration: tolerate everything.
TOLERATE_ALL = [{"operator": "Exists"}]


def _bundle(folder: Path, output: Path, deployer: str, *data: str) -> subprocess.CompletedProcess[str]:
    command = [AICR_BIN, "bundle", "--recipe", str(folder / "recipe.yaml"), "--output", str(output), "--deployer", deployer]
    return subprocess.run([*command, *data], capture_output=True, text=True, timeout=300, check=False)


def _toleration_paths() -> dict[str, list[list[str]]]:
    registry = yaml.safe_load(REFERENCE_REGISTRY.read_text(encoding="utf-8"))
    paths: dict[str, list[list[str]]] = {}
    for component in registry["components"]:
        scheduling = component.get("nodeScheduling") or {}
        for group in ("system", "accelerated"):
            for dotted in (scheduling.get(group) or {}).get("tolerationPaths", []):
                paths.setdefault(component["name"], []).append(dotted.split("."))
    return paths


def _as_bundled(values: dict[str, Any], paths: list[list[str]]) -> dict[str, Any]:
    """`values` as the reference's bundler writes them: TOLERATE_ALL at each toleration path."""
    bundled = copy.deepcopy(values)
    for path in paths:
        node = bundled
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = TOLERATE_ALL
    return bundled


@needs_reference
@pytest.mark.parametrize("deployer", ["helm", "argocd"])
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_the_reference_bundles_every_shipped_recipe(recipe: Path, deployer: str, tmp_path: Path) -> None:
    folder, bundle = tmp_path / "recipe", tmp_path / "bundle"
    folder.mkdir()
    result, compiled = _compile(recipe, folder)
    ran = _bundle(folder, bundle, deployer, "--data", str(folder))
    assert ran.returncode == 0, ran.stderr[-3000:]
    tolerations = _toleration_paths()
    components = {c["name"]: c for c in compiled.document["components"]}
    for ref in result["componentRefs"]:
        name = ref["name"]
        bundled = yaml.safe_load((bundle / name / "values.yaml").read_text(encoding="utf-8")) or {}
        assert bundled == _as_bundled(components[name]["values"], tolerations.get(name, [])), name
        for path, manifest in zip(ref.get("manifestFiles", []), components[name]["manifests"], strict=True):
            # the data folder travels with the bundle; the helm deployer also renders each manifest
            # (Go templates: ours have no actions, so they come out as they are)
            assert (bundle / "data" / path).read_text(encoding="utf-8") == manifest["content"]
            if deployer == "helm":
                rendered = bundle / name / "manifests" / PurePosixPath(path).name
                assert rendered.read_text(encoding="utf-8") == manifest["content"], path
    if deployer == "helm":
        assert (bundle / "deploy.sh").is_file()
    else:
        assert (bundle / "app-of-apps.yaml").is_file()


@needs_reference
def test_without_data_the_reference_fails_on_the_first_manifest(tmp_path: Path) -> None:
    """Our manifests live where the reference's built-in data has nothing: forgetting `--data`
    fails loudly instead of bundling a built-in file of the same name."""
    folder = tmp_path / "recipe"
    folder.mkdir()
    _compile(TRAINING, folder)
    ran = _bundle(folder, tmp_path / "bundle", "helm")
    assert ran.returncode != 0
    assert "failed to load manifest manifests/" in ran.stderr + ran.stdout
