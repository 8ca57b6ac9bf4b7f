"""`when` predicates over the recipe's criteria."""

from __future__ import annotations

from collections.abc import Mapping

from aicrc.compiler.load.program import DimensionDef
from aicrc.compiler.syntax import ast


def holds(predicate: ast.Predicate, criteria: Mapping[str, str], dimensions: Mapping[str, DimensionDef]) -> bool:
    """Whether the predicate is true. An unset dimension equals nothing, so `!=` and `not` hold."""
    if isinstance(predicate, ast.Compare):  # first: most predicates are comparisons
        dimension = dimensions[predicate.dimension.text]
        matches = _stands_for(dimension, predicate.value.text, criteria.get(dimension.name))
        return matches if predicate.op == "==" else not matches
    if isinstance(predicate, ast.And):
        return all(holds(item, criteria, dimensions) for item in predicate.items)
    if isinstance(predicate, ast.Or):
        return any(holds(item, criteria, dimensions) for item in predicate.items)
    if isinstance(predicate, ast.Not):
        return not holds(predicate.item, criteria, dimensions)
    dimension = dimensions[predicate.dimension.text]
    actual = criteria.get(dimension.name)
    return any(_stands_for(dimension, value.text, actual) for value in predicate.values)


def _stands_for(dimension: DimensionDef, name: str, actual: str | None) -> bool:
    """Whether `name` (a value, a family or an alias) stands for the value `actual`; most names
    are plain values, answered without building the set a family expands to."""
    if name in dimension.families or name in dimension.aliases:
        return actual in dimension.expand(name)
    return actual == name
