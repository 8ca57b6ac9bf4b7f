"""`aicrc explain`: the provenance chain of a value, winner first, then everything it overrode;
and where each criterion of the recipe came from (the recipe, a flag, a --criteria file, a
snapshot's reading, or the dimension's default)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from aicrc.compiler.evaluate.predicates import holds
from aicrc.compiler.evaluate.provenance import LeafStory
from aicrc.compiler.evaluate.values import Contribution, Path
from aicrc.records import Record

if TYPE_CHECKING:
    from aicrc.api import Compilation

Source: TypeAlias = Literal["recipe", "criteria-file", "flag", "snapshot", "default", "api"]


class CriterionOrigin(Record):
    """Where one criterion came from: `origin` says it (`--intent`, `recipe.aicr:3:5`,
    `snapshot GPU.smi.gpu.model = "NVIDIA H200"`), `given` is the value as written there."""

    dimension: str
    value: str
    given: str
    source: Source
    origin: str


def criteria_origins(compilation: Compilation) -> list[CriterionOrigin]:
    """Every bound criterion in dimension order, with where it came from."""
    resolved = compilation.resolved
    origins = []
    for name, value in resolved.criteria.items():
        item = resolved.given.get(name)
        if item is None:
            origins.append(CriterionOrigin(name, value, "", "default", _default(compilation, name, value)))
        elif item.span is not None:
            source: Source = "recipe" if item.span.file == compilation.recipe_file else "criteria-file"
            what = f"recipe {resolved.recipe}" if source == "recipe" else "--criteria"
            origins.append(CriterionOrigin(name, value, item.value, source, f"{what} at {item.span}"))
        else:  # the command line names what it gave: `--intent`, or `snapshot FIELD = "READING"`
            source = "flag" if item.where.startswith("--") else "snapshot" if item.where.startswith("snapshot ") else "api"
            origins.append(CriterionOrigin(name, value, item.value, source, item.where or "the caller"))
    return origins


def _default(compilation: Compilation, name: str, value: str) -> str:
    """The default declaration that gave a dimension its value (the first that applies, as in binding)."""
    criteria, dimensions = compilation.resolved.criteria, compilation.program.dimensions
    for default in dimensions[name].defaults:
        if default.value.text == value and (default.when is None or holds(default.when, criteria, dimensions)):
            return f"the default at {default.span}"
    return "the default"


def render_criteria(recipe: str, origins: list[CriterionOrigin]) -> str:
    lines = [f"criteria of {recipe}:" if origins else f"criteria of {recipe}: none (the generic configuration)"]
    bindings = [f"{origin.dimension} = {origin.value}" for origin in origins]
    width = max(map(len, bindings), default=0)
    for binding, origin in zip(bindings, origins, strict=True):
        given = f" (given as {origin.given})" if origin.given and origin.given != origin.value else ""
        lines.append(f"  {binding:<{width}}  from {origin.origin}{given}")
    return "\n".join(lines) + "\n"


def criteria_data(origins: list[CriterionOrigin]) -> list[dict[str, Any]]:
    return [{"dimension": o.dimension, "value": o.value, "given": o.given or None, "source": o.source, "from": o.origin} for o in origins]


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
