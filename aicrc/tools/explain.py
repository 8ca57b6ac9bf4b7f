"""`aicrc explain`: the provenance chain of a value, winner first, then everything it overrode."""

from __future__ import annotations

import json
from typing import Any

from aicrc.compiler.evaluate.provenance import LeafStory
from aicrc.compiler.evaluate.values import Contribution, Path


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
