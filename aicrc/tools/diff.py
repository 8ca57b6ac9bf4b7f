"""`aicrc diff A B`: what changes between two compiled recipes, grouped by component.

Counted as the README's "Counting values" says: components swapped = the symmetric difference of the component
sets; values changed = component-qualified leaf paths added, removed or changed (the leaves of a
swapped component count too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aicrc.api import Compilation
from aicrc.compiler.evaluate.values import Path, leaf_paths, same
from aicrc.compiler.syntax.ast import format_path


@dataclass
class ComponentChanges:
    name: str
    status: str  # "added", "removed" or "changed"
    added: list[tuple[Path, Any, str]] = field(default_factory=list)
    removed: list[tuple[Path, Any, str]] = field(default_factory=list)
    changed: list[tuple[Path, Any, Any, str]] = field(default_factory=list)
    chart: tuple[str, str] | None = None  # (old version, new version) when the pin moved

    @property
    def value_count(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed)


@dataclass
class Difference:
    added: list[str]
    removed: list[str]
    components: list[ComponentChanges]

    @property
    def components_swapped(self) -> int:
        return len(self.added) + len(self.removed)

    @property
    def values_changed(self) -> int:
        return sum(c.value_count for c in self.components)

    @property
    def equal(self) -> bool:
        return not self.components_swapped and not any(c.value_count or c.chart for c in self.components)


def diff(a: Compilation, b: Compilation) -> Difference:
    old = {c["name"]: c for c in a.document["components"]}
    new = {c["name"]: c for c in b.document["components"]}
    changes = []
    for name in sorted(old.keys() | new.keys()):
        status = "added" if name not in old else "removed" if name not in new else "changed"
        entry = ComponentChanges(name, status)
        before = leaf_paths(old[name]["values"]) if name in old else {}
        after = leaf_paths(new[name]["values"]) if name in new else {}
        for path in sorted(before.keys() | after.keys()):
            if path not in before:
                entry.added.append((path, after[path], _setter(b, name, path)))
            elif path not in after:
                entry.removed.append((path, before[path], _setter(a, name, path)))
            elif not same(before[path], after[path]):
                entry.changed.append((path, before[path], after[path], _setter(b, name, path)))
        if status == "changed":
            versions = (_version(old[name]), _version(new[name]))
            entry.chart = versions if versions[0] != versions[1] else None
        if entry.value_count or entry.chart or status != "changed":
            changes.append(entry)
    return Difference(sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys()), changes)


def _version(component: dict[str, Any]) -> str:
    return str(component.get("chart", {}).get("version", ""))


def _setter(compilation: Compilation, component: str, path: Path) -> str:
    chain = compilation.resolved.components[component].history.get(path)
    return chain[-1].origin.layer if chain else "?"


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def render_text(difference: Difference) -> str:
    lines = []
    if difference.added:
        lines.append(f"components added: {', '.join(difference.added)}")
    if difference.removed:
        lines.append(f"components removed: {', '.join(difference.removed)}")
    for component in difference.components:
        lines.append("")
        lines.append(f"{component.name} ({component.status})")
        if component.chart:
            lines.append(f"  chart version: {component.chart[0]} -> {component.chart[1]}")
        rows = [(p, f"+ {format_path(p)}: {_show(v)}", layer) for p, v, layer in component.added]
        rows += [(p, f"- {format_path(p)}: {_show(v)}", layer) for p, v, layer in component.removed]
        rows += [(p, f"~ {format_path(p)}: {_show(o)} -> {_show(n)}", layer) for p, o, n, layer in component.changed]
        lines += [f"  {text}  [{layer}]" for _, text, layer in sorted(rows)]
    lines.append("")
    lines.append(f"{difference.components_swapped} components swapped, {difference.values_changed} values changed")
    return "\n".join(lines).lstrip("\n") + "\n"


def to_data(difference: Difference) -> dict[str, Any]:
    return {
        "componentsAdded": difference.added,
        "componentsRemoved": difference.removed,
        "components": [
            {
                "name": c.name,
                "status": c.status,
                "chart": {"from": c.chart[0], "to": c.chart[1]} if c.chart else None,
                "added": [{"path": format_path(p), "value": v, "layer": layer} for p, v, layer in c.added],
                "removed": [{"path": format_path(p), "value": v, "layer": layer} for p, v, layer in c.removed],
                "changed": [{"path": format_path(p), "from": o, "to": n, "layer": layer} for p, o, n, layer in c.changed],
            }
            for c in difference.components
        ],
        "componentsSwapped": difference.components_swapped,
        "valuesChanged": difference.values_changed,
    }
