"""`aicrc compile --format aicr`: a compiled recipe as the reference system's RecipeResult, so its
tools (its bundler, its API clients) can consume what aicrc compiles.

Values are self-contained: each componentRef carries the fully merged values as `overrides` and
no `valuesFile` (a form the reference's bundler supports), so nothing depends on its data folder.
`manifestFiles` name the manifests as aicrc shows them (relative to the library).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aicrc import __version__
from aicrc.interop.aicr_model import API_VERSION

if TYPE_CHECKING:
    from aicrc.api import Compilation


def recipe_result(compilation: Compilation) -> dict[str, Any]:
    document, resolved = compilation.document, compilation.resolved
    criteria = {name: resolved.criteria.get(name, "any") for name in compilation.program.dimensions}
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
        "apiVersion": API_VERSION,
        "metadata": {"version": f"aicrc-{__version__}", "appliedOverlays": [layer.name for layer in resolved.layers]},
        "criteria": criteria,
        "constraints": constraints,
        "componentRefs": refs,
        "deploymentOrder": document["deploymentOrder"],
    }
    if document["checks"]:
        result["validation"] = {phase: {"checks": checks} for phase, checks in document["checks"].items()}
    return result
