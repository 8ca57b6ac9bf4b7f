"""The dependency graph of a compiled recipe, with its install waves: as Mermaid (for READMEs that
GitHub and GitLab render), DOT (Graphviz) and JSON.

Edges point from a component to one that needs it: the direction of installation. Every declared
need is drawn, not only the ones that add an ordering, so the picture is the recipe as written.
A wave's components need only components of earlier waves, so they could be installed together.
"""

from __future__ import annotations

import json
from typing import Any

from aicrc.bundle.recipe import Component, Recipe


def render(recipe: Recipe, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(to_data(recipe), indent=2) + "\n"
    return dot(recipe) if output_format == "dot" else mermaid(recipe)


def edges(recipe: Recipe) -> list[tuple[str, str]]:
    """(needed, needing) pairs, in deployment order of the needing component, then of its needs."""
    return [(need, component.name) for component in recipe.components for need in component.needs]


def to_data(recipe: Recipe) -> dict[str, Any]:
    order = {component.name: index for index, component in enumerate(recipe.components)}
    return {
        "recipe": recipe.name,
        "components": [
            {
                "name": component.name,
                "order": order[component.name],
                "wave": component.wave,
                "kind": component.kind,
                "namespace": component.namespace,
                "chart": _chart(component),
                "needs": list(component.needs),
                "neededBy": recipe.needed_by(component.name),
            }
            for component in recipe.components
        ],
        "waves": [[component.name for component in wave] for wave in recipe.waves],
        "edges": [{"from": needed, "to": needing} for needed, needing in edges(recipe)],
    }


def _chart(component: Component) -> dict[str, str] | None:
    chart = component.chart
    return {"repository": chart.repository, "name": chart.name, "version": chart.version} if chart else None


def mermaid(recipe: Recipe) -> str:
    lines = ["flowchart LR"]
    for number, wave in enumerate(recipe.waves):
        lines.append(f'    subgraph wave{number}["wave {number}"]')
        lines += [f'        {_mermaid_id(component)}["{component.name}"]' for component in wave]
        lines.append("    end")
    ids = {component.name: _mermaid_id(component) for component in recipe.components}
    lines += [f"    {ids[needed]} --> {ids[needing]}" for needed, needing in edges(recipe)]
    return "\n".join(lines) + "\n"


def _mermaid_id(component: Component) -> str:
    # Component names are DNS labels (recipe.RELEASE_NAME); a prefix keeps them clear of Mermaid's
    # keywords (`end`), and `_` of its arrows (`--`).
    return "c_" + component.name.replace("-", "_")


def dot(recipe: Recipe) -> str:
    lines = [f"digraph {_dot_id(recipe.name)} {{", "    rankdir=LR;", "    node [shape=box];"]
    for number, wave in enumerate(recipe.waves):
        lines += [f"    subgraph cluster_wave{number} {{", f'        label="wave {number}";']
        lines += [f"        {_dot_id(component.name)};" for component in wave]
        lines.append("    }")
    lines += [f"    {_dot_id(needed)} -> {_dot_id(needing)};" for needed, needing in edges(recipe)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
