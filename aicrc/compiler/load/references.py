"""Every name in the program must refer to something: components, features, dimensions, values.

Checked over the whole program, selected or not, so a typo in a layer that today's recipe does not
use still fails the build instead of waiting for the one recipe that would select it.
"""

from __future__ import annotations

from collections.abc import Iterable

from aicrc import diagnostics as diag
from aicrc.compiler.load.loader import Program
from aicrc.compiler.syntax import ast
from aicrc.vocabulary import CHECK_PHASES, COMPONENT_KINDS, LAYER_KINDS


def check_references(program: Program) -> None:
    problems = diag.Collector()
    _Checker(program, problems).run()
    problems.raise_if_any(program.sources)


class _Checker:
    def __init__(self, program: Program, problems: diag.Collector) -> None:
        self.program = program
        self.problems = problems

    def run(self) -> None:
        program = self.program
        for dimension in program.dimensions.values():
            known = set(dimension.values)
            members = [m for f in dimension.families.values() for m in f.members]
            members += [a.target for a in dimension.aliases.values()]
            for name in members:
                self._value(dimension.name, name, known)
            for default in dimension.defaults:
                self._value(dimension.name, default.value, known)
                if default.when is not None:
                    self.predicate(default.when)
        for component in program.components.values():
            self._component(component)
        for feature in program.features.values():
            self.body(feature.body)
        for layer in program.layers.values():
            if layer.kind.text not in LAYER_KINDS:
                self.problems.add(
                    "E0305",
                    f"unknown layer kind `{layer.kind.text}`",
                    layer.kind.span,
                    notes=(f"layer kinds, lowest precedence first: {', '.join(LAYER_KINDS)}",),
                    help=diag.did_you_mean(layer.kind.text, LAYER_KINDS),
                )
            if layer.when is not None:
                self.predicate(layer.when)
            self.body(layer.body)
        for recipe in program.recipes.values():
            self.body(recipe.body)

    # -- helpers --
    def component(self, name: ast.Name) -> None:
        if name.text not in self.program.components:
            self.problems.add(
                "E0301",
                f"unknown component `{name.text}`",
                name.span,
                help=diag.did_you_mean(name.text, self.program.components),
            )

    def components(self, names: Iterable[ast.Name]) -> None:
        for name in names:
            self.component(name)

    def _value(self, dimension: str, name: ast.Name, known: set[str]) -> None:
        if name.text not in known:
            self.problems.add(
                "E0304",
                f"`{name.text}` is not a value of dimension `{dimension}`",
                name.span,
                notes=(f"allowed: {diag.one_of(known)}",),
                help=diag.did_you_mean(name.text, known),
            )

    def _component(self, component: ast.Component) -> None:
        kind = component.kind.text if component.kind else "helm"
        if kind not in COMPONENT_KINDS:
            self.problems.add(
                "E0306",
                f"unknown component kind `{kind}`",
                component.kind.span,  # type: ignore[union-attr]
                help="a component is `kind helm` (the default) or `kind manifests`",
            )
        elif kind == "helm" and component.chart is None:
            self.problems.add(
                "E0306",
                f"component `{component.name.text}` has no chart",
                component.name.span,
                help='add `chart NAME from "REPOSITORY" version "VERSION"`, or `kind manifests` for a manifests-only component',
            )
        elif kind == "manifests" and component.chart is not None:
            self.problems.add(
                "E0306",
                f"component `{component.name.text}` is `kind manifests` but names a chart",
                component.chart.span,
                help="remove the chart, or make the component `kind helm`",
            )
        if component.namespace is None:
            self.problems.add(
                "E0306",
                f"component `{component.name.text}` has no namespace",
                component.name.span,
                help="add `namespace NAME`: the namespace its chart or manifests install into",
            )
        self.components(component.needs)

    def body(self, statements: Iterable[ast.Statement]) -> None:
        for statement in statements:
            if isinstance(statement, (ast.Use, ast.Drop)):
                self.components(statement.components)
            elif isinstance(statement, ast.Set):
                first = statement.path.segments[0]
                if first not in self.program.components:
                    span = statement.path.span
                    head = type(span)(span.file, span.line, span.col, span.line, span.col + len(first))
                    self.problems.add(
                        "E0301",
                        f"unknown component `{first}`",
                        head,
                        notes=("a `set` path starts with the component it configures",),
                        help=diag.did_you_mean(first, self.program.components),
                    )
            elif isinstance(statement, (ast.ValuesBlock, ast.AddManifest)):
                self.component(statement.component)
            elif isinstance(statement, ast.Needs):
                self.component(statement.component)
                self.components(statement.dependencies)
            elif isinstance(statement, ast.Enable):
                self.features(statement.features)
            elif isinstance(statement, ast.Rule):
                self.predicate(statement.when)
                self.features(statement.features)
            elif isinstance(statement, ast.Check) and statement.phase.text not in CHECK_PHASES:
                self.problems.add(
                    "E0307",
                    f"unknown check phase `{statement.phase.text}`",
                    statement.phase.span,
                    notes=(f"phases: {', '.join(CHECK_PHASES)}",),
                    help=diag.did_you_mean(statement.phase.text, CHECK_PHASES),
                )

    def features(self, names: Iterable[ast.Name]) -> None:
        for name in names:
            if name.text not in self.program.features:
                self.problems.add(
                    "E0302",
                    f"unknown feature `{name.text}`",
                    name.span,
                    help=diag.did_you_mean(name.text, self.program.features),
                )

    def predicate(self, predicate: ast.Predicate) -> None:
        if isinstance(predicate, (ast.And, ast.Or)):
            for item in predicate.items:
                self.predicate(item)
            return
        if isinstance(predicate, ast.Not):
            self.predicate(predicate.item)
            return
        dimension = self.program.dimensions.get(predicate.dimension.text)
        if dimension is None:
            self.problems.add(
                "E0303",
                f"unknown dimension `{predicate.dimension.text}`",
                predicate.dimension.span,
                notes=(f"dimensions: {diag.one_of(self.program.dimensions)}",),
                help=diag.did_you_mean(predicate.dimension.text, self.program.dimensions),
            )
            return
        values = (predicate.value,) if isinstance(predicate, ast.Compare) else predicate.values
        known = dimension.known_names()
        for value in values:
            self._value(dimension.name, value, known)
