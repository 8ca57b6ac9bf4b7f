"""`when` predicates over the recipe's criteria."""

from __future__ import annotations

from collections.abc import Mapping

from aicrc.compiler.load.program import DimensionDef
from aicrc.compiler.syntax import ast


def holds(predicate: ast.Predicate, criteria: Mapping[str, str], dimensions: Mapping[str, DimensionDef]) -> bool:
    """Whether the predicate is true. An unset dimension equals nothing, so `!=` and `not` hold."""
    if isinstance(predicate, ast.And):
        return all(holds(item, criteria, dimensions) for item in predicate.items)
    if isinstance(predicate, ast.Or):
        return any(holds(item, criteria, dimensions) for item in predicate.items)
    if isinstance(predicate, ast.Not):
        return not holds(predicate.item, criteria, dimensions)
    dimension = dimensions[predicate.dimension.text]
    actual = criteria.get(dimension.name)
    if isinstance(predicate, ast.In):
        allowed = frozenset().union(*(dimension.expand(v.text) for v in predicate.values))
        return actual in allowed
    matches = actual in dimension.expand(predicate.value.text)
    return matches if predicate.op == "==" else not matches
