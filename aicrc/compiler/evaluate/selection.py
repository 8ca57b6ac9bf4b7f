"""Which layers apply to the criteria, and what each contributes: its statements, with the
features it enables expanded in place (a `Unit`), so that they apply at its precedence.

Both are asked on every compile and depend only on the program and the criteria, so both are
remembered: which layers of a program apply, by the values of the dimensions their `when` names;
and a layer's unit, when no `when ... enable` rule made its expansion depend on the criteria.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial

from aicrc.compiler.evaluate.memo import PerObject
from aicrc.compiler.evaluate.predicates import holds
from aicrc.compiler.evaluate.values import Origin
from aicrc.compiler.load.program import Program, Step
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.walk import predicate_dimensions
from aicrc.source import Span
from aicrc.vocabulary import KIND_RANK


class Unit:
    """The statements one layer (or the recipe) contributes, features expanded in place. (A plain
    class, not a dataclass: see `aicrc.compiler.load.program.Program`.)"""

    def __init__(self, name: str, kind: str, named: frozenset[str], span: Span | None) -> None:
        self.name = name
        self.kind = kind
        self.named = named  # the dimensions its `when` names
        self.span = span
        self.steps: list[tuple[Step, Origin]] = []

    @property
    def specificity(self) -> int:
        return len(self.named)

    @property
    def precedence(self) -> tuple[int, int]:
        return (KIND_RANK[self.kind], self.specificity)


def select_layers(program: Program, criteria: dict[str, str]) -> list[Unit]:
    index = _LAYER_INDEXES.get(program, partial(_LayerIndex, program))
    return [_layer_unit(program, criteria, layer) for layer in index.applying(criteria)]


class _LayerIndex:
    """A program's layers grouped by the dimensions their `when` names, with the layers of each
    group that apply to each combination of those dimensions' values, worked out when first asked:
    a library of 130 layers has a dozen such groups, and compiling every combination of it asks
    about the same few values again and again. Kept per program, whose layers and dimensions do
    not change once it is loaded."""

    def __init__(self, program: Program) -> None:
        self.dimensions = program.dimensions
        self.always: list[tuple[int, ast.Layer]] = []  # (position in the program, layer)
        self.groups: dict[tuple[str, ...], list[tuple[int, ast.Layer]]] = defaultdict(list)
        for position, layer in enumerate(program.layers.values()):
            if layer.when is None:
                self.always.append((position, layer))
            else:
                self.groups[_named(layer.when)].append((position, layer))
        self.applying_by_values: dict[tuple[tuple[str, ...], tuple[str | None, ...]], list[tuple[int, ast.Layer]]] = {}

    def applying(self, criteria: dict[str, str]) -> list[ast.Layer]:
        """The layers that apply, in the program's order."""
        found = list(self.always)
        for named, layers in self.groups.items():
            key = (named, tuple(criteria.get(dimension) for dimension in named))
            applying = self.applying_by_values.get(key)
            if applying is None:
                applying = [(i, layer) for i, layer in layers if holds(layer.when, criteria, self.dimensions)]  # type: ignore[arg-type]
                self.applying_by_values[key] = applying
            found += applying
        found.sort(key=_position)
        return [layer for _, layer in found]


def _position(entry: tuple[int, ast.Layer]) -> int:
    return entry[0]


def _named(predicate: ast.Predicate | None) -> tuple[str, ...]:
    """The dimensions a `when` names, sorted; kept with the predicate, since a recipe file compiles
    against a copy of its library's program, whose index is built anew from the same layers."""
    if predicate is None:
        return ()
    return _NAMED.get(predicate, lambda: tuple(sorted(predicate_dimensions(predicate))))


_LAYER_INDEXES: PerObject[_LayerIndex] = PerObject()
_NAMED: PerObject[tuple[str, ...]] = PerObject()


# A layer whose expansion meets no `when ... enable` rule expands alike whatever the criteria: its
# unit is worked out once, and used again while the program holds the very bodies it was expanded
# from (another library, or an edited file, has new ones). Units are read, never changed, once made.
Bodies = tuple[tuple[tuple[str, str], tuple[Step, ...]], ...]
_EXPANDED: PerObject[tuple[Unit, Bodies]] = PerObject()


def _layer_unit(program: Program, criteria: dict[str, str], layer: ast.Layer) -> Unit:
    known = _EXPANDED.find(layer)
    if known is not None and all(program.bodies.get(key) is body for key, body in known[1]):
        return known[0]
    unit = Unit(layer.name.text, layer.kind.text, frozenset(_named(layer.when)), layer.name.span)
    expanded_from: list[tuple[tuple[str, str], tuple[Step, ...]]] = []
    if not expand(program, criteria, unit, ("layer", layer.name.text), None, None, expanded_from=expanded_from):
        _EXPANDED.remember(layer, (unit, tuple(expanded_from)))
    return unit


def expand(
    program: Program,
    criteria: dict[str, str],
    unit: Unit,
    body: tuple[str, str],
    feature: str | None,
    rule: Span | None,
    active: tuple[str, ...] = (),
    expanded_from: list[tuple[tuple[str, str], tuple[Step, ...]]] | None = None,
) -> bool:
    """Inline enabled features into the unit, so they apply at the enabling layer's precedence.
    `body` names what to expand (("layer", name), ("feature", name)); `expanded_from` hears of each
    body used. True when a `when ... enable` rule was met: the expansion depends on the criteria."""
    steps = program.body(*body)
    if expanded_from is not None:
        expanded_from.append((body, steps))
    ruled = False
    for step in steps:
        statement = step.statement
        if isinstance(statement, (ast.Enable, ast.Rule)):
            if isinstance(statement, ast.Rule):
                ruled = True
                if not holds(statement.when, criteria, program.dimensions):
                    continue
            enabled_at = statement.span  # where the feature was switched on, for `explain`
            for name in statement.features:
                if name.text in active:  # a feature that (indirectly) enables itself adds nothing new
                    continue
                nested = ("feature", name.text)
                ruled |= expand(program, criteria, unit, nested, name.text, enabled_at, (*active, name.text), expanded_from)
            continue
        unit.steps.append((step, Origin(unit.name, unit.kind, statement.span, feature, rule)))
    return ruled
