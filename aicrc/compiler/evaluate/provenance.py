"""Provenance queries over a resolved recipe: every leaf at or under a path, with the chain of
contributions that set it (in application order: the last one won). `aicrc explain` renders them."""

from __future__ import annotations

from typing import Any

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.model import Resolved
from aicrc.compiler.evaluate.values import Contribution, Path
from aicrc.compiler.syntax.ast import format_path
from aicrc.records import Record


class LeafStory(Record):
    component: str
    path: Path
    value: Any
    chain: tuple[Contribution, ...]  # in application order: the last one won

    @property
    def dotted(self) -> str:
        return format_path((self.component, *self.path))


def explain(resolved: Resolved, path: tuple[str, ...]) -> list[LeafStory]:
    """Every leaf at or under `component.path`, with its history."""
    name, prefix = path[0], path[1:]
    component = resolved.components.get(name)
    if component is None:
        raise diag.error(
            "E0602",
            f"`{name}` is not a component of this recipe",
            notes=(f"components: {diag.one_of(resolved.components)}",),
            help=diag.did_you_mean(name, resolved.components),
        )
    stories = [
        LeafStory(name, leaf, _value_at(component.values, leaf), tuple(chain))
        for leaf, chain in sorted(component.history.items())
        if leaf[: len(prefix)] == prefix
    ]
    if not stories:
        known = [format_path((name, *leaf)) for leaf in component.history]
        wanted = format_path(path)
        raise diag.error(
            "E0602",
            f"`{wanted}` has no value in this recipe",
            help=diag.did_you_mean(wanted, known) or "`aicrc query FILE components.NAME.values` lists a component's values",
        )
    return stories


def _value_at(values: dict[str, Any], path: Path) -> Any:
    for segment in path:
        values = values[segment]
    return values
