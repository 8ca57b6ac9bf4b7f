"""`aicrc stats`: how big a compiled recipe is. A configuration value is one leaf of a component's
Helm values: a scalar (null included), a whole list, or an empty map; a chart pin is not a value
(README, "Counting values")."""

from __future__ import annotations

from typing import Any

from aicrc.compiler.evaluate.values import leaf_paths


def value_count(component: dict[str, Any]) -> int:
    return len(leaf_paths(component["values"]))


def stats(document: dict[str, Any]) -> dict[str, Any]:
    per_component = {c["name"]: value_count(c) for c in document["components"]}
    return {
        "recipe": document["metadata"]["name"],
        "components": len(per_component),
        "values": sum(per_component.values()),
        "perComponent": dict(sorted(per_component.items())),
        "layers": list(document["metadata"]["layers"]),
    }


def render_text(summary: dict[str, Any]) -> str:
    width = max((len(name) for name in summary["perComponent"]), default=0)
    lines = [
        f"recipe      {summary['recipe']}",
        f"components  {summary['components']}",
        f"values      {summary['values']}",
        f"layers      {', '.join(summary['layers'])}",
        "",
        "values per component:",
    ]
    lines += [f"  {name:<{width}}  {count:>4}" for name, count in summary["perComponent"].items()]
    lines.append(f"{summary['components']} components, {summary['values']} values")
    return "\n".join(lines) + "\n"
