"""`aicrc explain`: the provenance chain of a value, winner first, then everything it overrode."""

from __future__ import annotations

import json
from typing import Any

from aicrc import diagnostics as diag
from aicrc.evaluate.model import Resolved
from aicrc.evaluate.values import Contribution, Path
from aicrc.records import Record


class LeafStory(Record):
    component: str
    path: Path
    value: Any
    chain: tuple[Contribution, ...]  # in application order: the last one won

    @property
    def dotted(self) -> str:
        from aicrc.syntax.ast import format_path

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
        from aicrc.syntax.ast import format_path

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


def render_text(stories: list[LeafStory]) -> str:
    blocks = []
    for story in stories:
        winner, *overridden = reversed(story.chain)
        lines = [f"{story.dotted} = {json.dumps(story.value)}", f"  set by    {_line(winner, show_value=False)}"]
        for index, contribution in enumerate(overridden):
            label = "overrode" if index == 0 else ""
            lines.append(f"  {label:<9} {_line(contribution, show_value=True, leaf=story.path)}")
        involved = [c for c in story.chain if c.origin.feature]
        for contribution in involved[-1:]:
            origin = contribution.origin
            rule = f", enabled at {origin.rule}" if origin.rule else ""
            lines.append(f"  via       feature {origin.feature}{rule}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _line(contribution: Contribution, *, show_value: bool, leaf: Path = ()) -> str:
    where = f" at {contribution.origin.span}" if contribution.origin.span else ""
    value = ""
    if show_value:
        value = json.dumps(contribution.value)
        if contribution.path != leaf:  # a whole subtree replaced from above, or this leaf from below
            value += f" (at {'.'.join(contribution.path)})"
        value += " from "
    return f"{value}{contribution.origin.describe()}{where}"


def to_data(stories: list[LeafStory]) -> list[dict[str, Any]]:
    return [
        {
            "path": story.dotted,
            "value": story.value,
            "chain": [
                {
                    "value": c.value,
                    "path": ".".join(c.path),
                    "layer": c.origin.layer,
                    "kind": c.origin.kind,
                    "feature": c.origin.feature,
                    "location": str(c.origin.span) if c.origin.span else None,
                }
                for c in reversed(story.chain)
            ],
        }
        for story in stories
    ]
