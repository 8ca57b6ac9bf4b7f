"""Binding a recipe's criteria: validate each dimension and value, resolve aliases, apply defaults."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.predicates import holds
from aicrc.compiler.load.program import DimensionDef
from aicrc.records import Record
from aicrc.source import Span

UNSET = "any"  # as in the reference system: `any` leaves a dimension unset


class RawCriterion(Record):
    """One `dimension = value` as the user gave it: in a recipe, a flag, or a criteria file."""

    dimension: str
    value: str
    span: Span | None = None
    where: str = ""  # how to name the origin when there is no span (`--service`)


def bind(raw: Iterable[RawCriterion], dimensions: Mapping[str, DimensionDef]) -> dict[str, str]:
    """Criteria in dimension declaration order, after aliases and defaults."""
    problems = diag.Collector()
    bound: dict[str, str] = {}
    unset: set[str] = set()  # given as `any`: no default applies
    seen: dict[str, RawCriterion] = {}
    for item in raw:
        name = item.dimension.lower()
        dimension = dimensions.get(name)
        if dimension is None:
            problems.add(
                "E0303",
                f"unknown dimension `{item.dimension}`{_where(item)}",
                item.span,
                notes=(f"dimensions: {diag.one_of(dimensions)}",),
                help=diag.did_you_mean(name, dimensions),
            )
            continue
        if name in seen:
            first = seen[name]
            problems.add(
                "E0108",
                f"dimension `{name}` is bound twice{_where(item)}",
                item.span,
                labels=(diag.Label(first.span, "first bound here"),) if first.span else (),
            )
            continue
        seen[name] = item
        value = item.value.lower()
        if value == UNSET:
            unset.add(name)
            continue
        if value in dimension.aliases:
            value = dimension.aliases[value].target.text
        if value not in dimension.values:
            allowed = list(dimension.values)
            problems.add(
                "E0304",
                f"`{item.value}` is not a value of dimension `{name}`{_where(item)}",
                item.span,
                notes=(f"allowed: {', '.join(allowed)}" + (f" (aliases: {', '.join(dimension.aliases)})" if dimension.aliases else ""),),
                help=diag.did_you_mean(value, [*allowed, *dimension.aliases]),
            )
            continue
        bound[name] = value
    problems.raise_if_any()
    apply_defaults(bound, dimensions, unset)
    return {name: bound[name] for name in dimensions if name in bound}


def apply_defaults(bound: dict[str, str], dimensions: Mapping[str, DimensionDef], unset: frozenset[str] | set[str] = frozenset()) -> None:
    """Fill dimensions not given from their defaults; a default may depend on another dimension
    (platform follows intent), so repeat until nothing changes. A dimension given as `any` (in
    `unset`) stays unset: `any` means no value, not "the default"."""
    changed = True
    while changed:
        changed = False
        for dimension in dimensions.values():
            if dimension.name in bound or dimension.name in unset:
                continue
            for default in dimension.defaults:
                if default.when is None or holds(default.when, bound, dimensions):
                    bound[dimension.name] = default.value.text
                    changed = True
                    break


def _where(item: RawCriterion) -> str:
    return f" ({item.where})" if item.where and item.span is None else ""
