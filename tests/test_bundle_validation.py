"""Every deployer's bundle of every shipped recipe: written, verified, byte-identical across runs, and
every Kubernetes object in it validated against a real schema.

Core objects (Namespace, and the manifests' ConfigMaps, DaemonSets ...) validate with the
`kubernetes-validate` package, strictly (no unknown fields), for the recipe's minimum Kubernetes
version. Argo CD Applications and Flux objects validate with the models of @kubernetes-models
(tests/k8s-models/validate.mjs, on Node.js; skipped without it). A custom resource neither has a
schema for is counted as skipped, never passed: only the recipes' own manifests may hold one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions
from packaging.version import Version

import aicrc
from aicrc.bundle.build import build_bundle
from aicrc.bundle.deployers import NAMES
from aicrc.bundle.deployers.base import Repository
from aicrc.bundle.recipe import Recipe, from_document
from aicrc.bundle.verify import TrustLevel, verify
from aicrc.bundle.writer import write_bundle
from aicrc.cli import main
from tests.conftest import FLAGSHIP, ROOT
from tests.test_cli import run_aicrc

RECIPES = sorted((ROOT / "recipes").glob("*.aicr"))
MODELS = ROOT / "tests" / "k8s-models"
INSTALL_HINT = "install them with `npm ci --prefix tests/k8s-models --no-audit --no-fund`"
REPO = ["--repo", "https://git.example.com/platform/gpu-stack.git", "--revision", "main"]
REPOSITORY = Repository(REPO[1], REPO[3])
# Files of a bundle that hold no Kubernetes objects: aicrc's compiled recipe, Helm values, helmfile's own file.
NOT_OBJECTS = {"recipe.yaml", "values.yaml", "helmfile.yaml"}
CASES = [(recipe, deployer) for recipe in RECIPES for deployer in NAMES]
REPO_FOR = {deployer: REPO if deployer in ("argocd", "flux") else [] for deployer in NAMES}
IDS = [f"{recipe.stem}-{deployer}" for recipe, deployer in CASES]


@cache
def _compiled(path: Path) -> Recipe:
    return from_document(aicrc.load_library(use_env=False).compile_file(path).document)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[Path, str], Path]:
    """Every deployer's bundle of every shipped recipe, written to disk."""
    root = tmp_path_factory.mktemp("bundles")
    written = {}
    for recipe, deployer in CASES:
        folder = root / f"{recipe.stem}-{deployer}"
        write_bundle(build_bundle(_compiled(recipe), [deployer], REPOSITORY), str(folder))
        written[recipe, deployer] = folder
    return written


def objects(folder: Path) -> list[tuple[str, int, dict[str, Any]]]:
    """(file, index, object) for every Kubernetes object of a bundle; any other YAML document in a
    file that is not values, recipe or helmfile fails: nothing escapes validation unseen."""
    found = []
    for path in sorted(folder.rglob("*.yaml")):
        if path.name in NOT_OBJECTS:
            continue
        for index, document in enumerate(yaml.safe_load_all(path.read_text())):
            if document is None:
                continue
            relative = path.relative_to(folder).as_posix()
            assert isinstance(document, dict) and {"apiVersion", "kind"} <= set(document), f"{relative}: document {index + 1}"
            found.append((relative, index, document))
    return found


def kubernetes_version(recipe: Recipe) -> str:
    """The recipe's minimum Kubernetes version (major.minor of its K8s.server.version constraint),
    clamped to the versions kubernetes-validate has schemas for."""
    (constraint,) = [c for c in recipe.constraints if c.name == "K8s.server.version"]
    assert constraint.operator in (">=", "=="), constraint
    wanted = Version(".".join(str(constraint.value).split(".")[:2]))
    supported = [Version(version) for version in all_versions()]
    clamped = min(max(wanted, supported[0]), supported[-1])
    return f"{clamped.major}.{clamped.minor}"


def validate_core(document: dict[str, Any], version: str) -> str | None:
    """None when the object validates; "skipped" when kubernetes-validate has no schema for it;
    else the error."""
    try:
        kubernetes_validate.validate(document, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return "skipped"
    except kubernetes_validate.ValidationError as failure:
        return f"{'.'.join(map(str, failure.path)) or '(top)'}: {failure.message}"
    return None


# ---- every bundle --------------------------------------------------------------------------------


@pytest.mark.parametrize(("recipe", "deployer"), CASES, ids=IDS)
def test_every_bundle_verifies_and_holds_only_objects_values_and_docs(
    recipe: Path, deployer: str, bundles: dict[tuple[Path, str], Path]
) -> None:
    folder = bundles[recipe, deployer]
    report = verify(folder)
    assert report.reached == TrustLevel.CHECKSUMS and not report.problems
    assert main(["verify", str(folder)]) == 0
    assert objects(folder) or deployer in ("helm", "helmfile")  # GitOps bundles are made of objects
    assert (folder / "README.md").read_text().startswith(f"# {recipe.stem}: ")


@pytest.mark.parametrize("deployer", NAMES)
def test_each_deployer_writes_byte_identical_bundles(deployer: str, tmp_path: Path) -> None:
    from tests.test_bundle import tree

    for seed, folder in (("0", "a"), ("4242", "b")):
        arguments = ["bundle", str(FLAGSHIP), "-d", deployer, *REPO_FOR[deployer], "-o", str(tmp_path / folder)]
        result = run_aicrc(*arguments, env={"PYTHONHASHSEED": seed, "AICRC_NO_CACHE": "1"})
        assert result.returncode == 0, result.stderr
    assert main(["bundle", str(FLAGSHIP), "-d", deployer, *REPO_FOR[deployer], "-o", str(tmp_path / "c")]) == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b") == tree(tmp_path / "c")
    assert main(["verify", str(tmp_path / "a")]) == 0


# ---- core objects: kubernetes-validate -----------------------------------------------------------


def test_the_kubernetes_version_is_the_recipes_minimum_clamped() -> None:
    flagship = _compiled(FLAGSHIP)
    assert kubernetes_version(flagship) == "1.32"  # K8s.server.version >= 1.32.4
    assert {kubernetes_version(_compiled(recipe)) for recipe in RECIPES} <= {"1.32", "1.33", "1.34"}


@pytest.mark.parametrize(("recipe", "deployer"), CASES, ids=IDS)
def test_core_objects_validate_with_kubernetes_validate(recipe: Path, deployer: str, bundles: dict[tuple[Path, str], Path]) -> None:
    version = kubernetes_version(_compiled(recipe))
    results = {(path, index): validate_core(document, version) for path, index, document in objects(bundles[recipe, deployer])}
    assert {where: result for where, result in results.items() if result not in (None, "skipped")} == {}
    namespaces = [path for path, _ in results if path.endswith("namespace.yaml")]  # helm's and flux's, for manifests-only components
    assert all(results[path, 0] is None for path in namespaces)


def test_kubernetes_validate_catches_what_the_api_server_would_refuse() -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "namespace": "n"}, "data": {"a": "b"}}
    assert validate_core(config_map, "1.32") is None
    assert validate_core({**config_map, "data": {"a": 5}}, "1.32") == "data.a: 5 is not of type 'string', 'null'"
    assert "'dat' was unexpected" in str(validate_core({**config_map, "dat": {}}, "1.32"))  # strict: no unknown fields
    assert validate_core({"apiVersion": "skyhook.nvidia.com/v1alpha1", "kind": "Skyhook", "metadata": {"name": "s"}}, "1.32") == "skipped"


# ---- Argo CD and Flux objects: @kubernetes-models ------------------------------------------------


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip(f"validating Argo CD and Flux objects needs Node.js (`node` on PATH) and the npm packages; {INSTALL_HINT}")
    packages = MODELS / "node_modules" / "@kubernetes-models"
    if not all((packages / name).is_dir() for name in ("argo-cd", "flux-cd")) or not (MODELS / "node_modules" / "yaml").is_dir():
        pytest.skip(f"validating Argo CD and Flux objects needs @kubernetes-models/argo-cd, flux-cd and yaml; {INSTALL_HINT}")
    return node


def run_models(*files: Path) -> tuple[int, list[dict[str, Any]], str]:
    result = subprocess.run(
        [_node(), str(MODELS / "validate.mjs"), *map(str, files)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    reported = json.loads(result.stdout)["objects"] if result.stdout else []
    return result.returncode, reported, result.stderr


def tally(bundles: dict[tuple[Path, str], Path]) -> tuple[Counter[str], Counter[str], list[str]]:
    """Objects validated by kind, custom resources skipped by kind, and every failure, over all bundles."""
    validated: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    failures: list[str] = []
    for_models: list[tuple[Path, str, int, dict[str, Any]]] = []
    for (recipe, _), folder in bundles.items():
        version = kubernetes_version(_compiled(recipe))
        for path, index, document in objects(folder):
            result = validate_core(document, version)
            if result is None:
                validated[f"{document['apiVersion']} {document['kind']}"] += 1
            elif result == "skipped":
                for_models.append((folder, path, index, document))
            else:
                failures.append(f"{folder.name}/{path}: {result}")
    files = sorted({folder / path for folder, path, _, _ in for_models})
    code, reported, stderr = run_models(*files)
    assert code in (0, 1), stderr
    status = {(entry["file"], entry["index"]): entry for entry in reported}
    for folder, path, index, document in for_models:
        entry = status[str(folder / path), index]
        kind = f"{document['apiVersion']} {document['kind']}"
        if entry["status"] == "valid":
            validated[kind] += 1
        elif entry["status"] == "skipped":
            skipped[kind] += 1
            if "/manifests/" not in f"/{path}":  # what aicrc writes always has a schema
                failures.append(f"{folder.name}/{path}: no schema for {kind}")
        else:
            failures.append(f"{folder.name}/{path}: {entry['message']}")
    return validated, skipped, failures


def test_every_object_of_every_bundle_validates_or_is_a_counted_custom_resource(bundles: dict[tuple[Path, str], Path]) -> None:
    validated, skipped, failures = tally(bundles)
    assert not failures
    for kind in (
        "v1 Namespace",
        "v1 ConfigMap",
        "argoproj.io/v1alpha1 Application",
        "helm.toolkit.fluxcd.io/v2 HelmRelease",
        "kustomize.toolkit.fluxcd.io/v1 Kustomization",
        "source.toolkit.fluxcd.io/v1 GitRepository",
        "source.toolkit.fluxcd.io/v1 HelmRepository",
        "source.toolkit.fluxcd.io/v1 OCIRepository",
    ):
        assert validated[kind] > 0, kind
    # the recipes' custom resources, whose CRDs their charts install: counted, not validated
    assert set(skipped) == {
        "skyhook.nvidia.com/v1alpha1 Skyhook",
        "trainer.kubeflow.org/v1alpha1 ClusterTrainingRuntime",
        "gateway.kgateway.dev/v1alpha1 GatewayParameters",
        "gateway.networking.k8s.io/v1 Gateway",
    }
    summary = ", ".join(f"{kind}: {count}" for kind, count in sorted(validated.items()))
    print(f"\nvalidated {sum(validated.values())} objects ({summary}); skipped {sum(skipped.values())} custom resources {dict(skipped)}")


def test_the_models_catch_a_broken_application_and_kustomization(tmp_path: Path) -> None:
    application = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "a", "namespace": "argocd"},
        "spec": {"project": "default", "source": {"repoURL": "https://x"}, "destination": {}, "syncPolicy": {"syncOptions": "x"}},
    }
    kustomization = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "k", "namespace": "flux-system"},
        "spec": {"interval": "10m", "sourceRef": {"kind": "GitRepository", "name": "g"}},  # no prune
    }
    git = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "g", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": "git@github.com:org/repo.git"},  # Flux reads ssh://, not scp's form
    }
    custom = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump_all([application, kustomization, git, custom]))
    code, reported, _ = run_models(broken)
    assert code == 1
    assert [entry["status"] for entry in reported] == ["invalid", "invalid", "invalid", "skipped"]
    assert "syncOptions must be array" in reported[0]["message"]
    assert "must have required property prune" in reported[1]["message"]
    assert "must match pattern" in reported[2]["message"]

    not_yaml = tmp_path / "not.yaml"
    not_yaml.write_text("a: [\n")
    assert run_models(not_yaml)[0] == 2
