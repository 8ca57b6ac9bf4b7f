"""`aicrc compile --format aicr`: a compiled recipe as the reference system's RecipeResult, so its
tools (its bundler, its API clients) can consume what aicrc compiles.

Values are self-contained: each componentRef carries the fully merged values as `overrides` and
no `valuesFile` (a form the reference's bundler supports), so nothing depends on its data folder.
`manifestFiles` name the manifests as aicrc shows them (relative to the library).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aicrc.compiler.evaluate.model import Resolved
from aicrc.version import __version__

# The apiVersion of the reference system's documents (RecipeResult, RecipeMetadata, RecipeCriteria).
AICR_API_VERSION = "aicr.nvidia.com/v1alpha1"


def recipe_result(resolved: Resolved, document: dict[str, Any], dimensions: Iterable[str]) -> dict[str, Any]:
    """`document` is the compiled recipe built from `resolved`; `dimensions` are every dimension of
    the library, in declaration order (the reference lists every criterion, `any` when unset)."""
    criteria = {name: resolved.criteria.get(name, "any") for name in dimensions}
    constraints = [
        {"name": c["name"], "value": str(c["value"]) if c["operator"] == "==" else f"{c['operator']} {c['value']}"}
        for c in sorted(document["constraints"], key=lambda c: c["name"])
    ]
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
            ref["manifestFiles"] = [m["name"] for m in component["manifests"]]
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
        result["validation"] = {phase: {"checks": checks} for phase, checks in document["checks"].items()}
    return result
