"""`aicrc compile --format aicr`: a compiled recipe as the reference system's RecipeResult, so its
tools (its bundler, its API clients) can consume what aicrc compiles.

Values are self-contained: each componentRef carries the fully merged values as `overrides` and
no `valuesFile` (a form the reference's bundler supports), so nothing depends on its data folder.

Manifests cannot be: the format has no field for a manifest's text, and the reference's bundler
reads each of `manifestFiles` from its data folder (its built-in data, or the folder given with
`aicr bundle --data`), never relative to the recipe file. So `manifestFiles` name files that
`data_files` returns, to be written beside the RecipeResult: together with an empty component
registry (which `--data` requires, and which leaves the reference's own registry as it is) they
make that folder a data folder. The paths are under `manifests/`, a folder the reference's own
data does not have, so a bundle run that forgets `--data` fails on the first manifest instead of
quietly taking a different file of the same name from the reference's data.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from aicrc.compiler.evaluate.model import Resolved
from aicrc.version import __version__

# The apiVersion of the reference system's documents (RecipeResult, RecipeMetadata, RecipeCriteria).
AICR_API_VERSION = "aicr.nvidia.com/v1alpha1"

# Where the manifests go, relative to the RecipeResult's folder: MANIFESTS/<component>/<file>.
MANIFESTS = "manifests"

# The file the reference's `--data` requires in a data folder. Its components are merged over the
# reference's own by name, so an empty list changes nothing there.
REGISTRY = "registry.yaml"
REGISTRY_TEXT = f"""\
# Written by aicrc {__version__} beside a RecipeResult, so that this folder can be given to
# `aicr bundle --data`: the RecipeResult's manifestFiles are read from here. No components are
# listed, so the reference's own component registry applies unchanged.
apiVersion: {AICR_API_VERSION}
kind: ComponentRegistry
components: []
"""


def recipe_result(resolved: Resolved, document: dict[str, Any], dimensions: Iterable[str]) -> dict[str, Any]:
    """`document` is the compiled recipe built from `resolved`; `dimensions` are every dimension of
    the library, in declaration order (the reference lists every criterion, `any` when unset)."""
    criteria = {name: resolved.criteria.get(name, "any") for name in dimensions}
    constraints = _constraints(document["constraints"])
    refs = []
    for component in sorted(document["components"], key=lambda c: c["name"]):
        chart = component.get("chart") or {}
        ref: dict[str, Any] = {
            "name": component["name"],
            "namespace": component["namespace"],
            "chart": chart.get("name", component["name"]),
            "type": "Helm",
            "source": chart.get("repository", ""),
        }
        if chart.get("version"):
            ref["version"] = chart["version"]
        if component["values"]:
            ref["overrides"] = component["values"]
        if component["needs"]:
            ref["dependencyRefs"] = sorted(component["needs"])
        if component["manifests"]:
            ref["manifestFiles"] = list(_manifest_files(component))
        refs.append(ref)
    result: dict[str, Any] = {
        "kind": "RecipeResult",
        "apiVersion": AICR_API_VERSION,
        "metadata": {"version": f"aicrc-{__version__}", "appliedOverlays": [layer.name for layer in resolved.layers]},
        "criteria": criteria,
        "constraints": constraints,
        "componentRefs": refs,
        "deploymentOrder": document["deploymentOrder"],
    }
    if document["checks"]:
        limits = document["checkConstraints"]
        result["validation"] = {phase: _phase(checks, limits.get(phase, [])) for phase, checks in document["checks"].items()}
    return result


def _phase(checks: list[str], constraints: list[dict[str, Any]]) -> dict[str, Any]:
    return {"checks": checks, "constraints": _constraints(constraints)} if constraints else {"checks": checks}


def _constraints(constraints: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The reference writes a constraint as one string: the value for `==`, `OP VALUE` otherwise."""
    return [
        {"name": c["name"], "value": str(c["value"]) if c["operator"] == "==" else f"{c['operator']} {c['value']}"}
        for c in sorted(constraints, key=lambda c: c["name"])
    ]


def data_files(document: dict[str, Any]) -> dict[str, str]:
    """The files the RecipeResult of `document` names, by POSIX path relative to its folder, with
    their text: every manifest, and the registry that makes the folder a data folder. Empty when no
    component has manifests: the RecipeResult then stands alone."""
    files = {path: text for component in document["components"] for path, text in _manifest_files(component).items()}
    return {**files, REGISTRY: REGISTRY_TEXT} if files else {}


def _manifest_files(component: dict[str, Any]) -> dict[str, str]:
    """MANIFESTS/<component>/<file name> -> text, in the component's order. The reference's bundler
    keeps only the file name (it writes <component>/manifests/<file name>), so two manifests of one
    component with the same name (from different folders) get distinct ones: x.yaml, x-2.yaml."""
    files: dict[str, str] = {}
    for manifest in component["manifests"]:
        name = PurePosixPath(manifest["name"]).name
        path = f"{MANIFESTS}/{component['name']}/{name}"
        count = 1
        while path in files:
            count += 1
            stem, dot, suffix = name.rpartition(".")
            path = f"{MANIFESTS}/{component['name']}/{f'{stem}-{count}.{suffix}' if dot else f'{name}-{count}'}"
        files[path] = manifest["content"]
    return files
