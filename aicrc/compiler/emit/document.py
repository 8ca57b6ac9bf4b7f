"""The compiled recipe as a plain document, keys in one canonical order so golden diffs are stable.

The document is what `aicrc compile` prints and what later stages (bundles, validation) read back;
`aicrc.compiler.emit.model.CompiledRecipe` describes it and publishes its JSON Schema.
"""

from __future__ import annotations

from typing import Any

from aicrc.compiler.evaluate.model import Constraint, Resolved, ResolvedComponent
from aicrc.compiler.solve import Plan
from aicrc.version import __version__

API_VERSION = "aicrc/v1alpha1"
KIND = "CompiledRecipe"


def build(resolved: Resolved, plan: Plan, digest: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": resolved.recipe,
            "criteria": dict(resolved.criteria),
            "layers": [layer.name for layer in resolved.layers],
            "digest": f"sha256:{digest}",
            "compiler": f"aicrc {__version__}",
        },
        "constraints": [_constraint(c) for c in resolved.constraints],
        "checks": {phase: list(names) for phase, names in resolved.checks.items()},
        "checkConstraints": {phase: [_constraint(c) for c in constraints] for phase, constraints in resolved.check_constraints.items()},
        "deploymentOrder": list(plan.order),
        "components": [_component(resolved.components[name], plan.waves[name]) for name in plan.order],
    }


def _constraint(constraint: Constraint) -> dict[str, Any]:
    return {"name": constraint.name, "operator": constraint.operator, "value": constraint.value, "layer": constraint.origin.layer}


def _component(component: ResolvedComponent, wave: int) -> dict[str, Any]:
    document: dict[str, Any] = {"name": component.name, "kind": component.kind, "wave": wave}
    chart = component.chart
    if chart is not None:
        document["chart"] = {
            "repository": chart.repository.value,
            "name": chart.name.text,
            "version": chart.version.value,
        }
    document["namespace"] = component.namespace
    document["needs"] = sorted(component.needs)
    document["values"] = canonical(component.values)
    document["manifests"] = [{"name": m.name, "content": m.content} for m in component.manifests]
    return document


def canonical(value: Any) -> Any:
    """Maps with their keys sorted, all the way down; list order is meaning, so it stays. (Most
    values are scalars, taken as they are without a call: this runs over every compiled value.)"""
    if isinstance(value, dict):
        return {key: canonical(item) if isinstance(item, dict | list) else item for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [canonical(item) if isinstance(item, dict | list) else item for item in value]
    return value
