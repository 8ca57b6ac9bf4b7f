"""Every name in the program must refer to something: components, features, dimensions, values.

Checked over every declaration of the files just loaded, selected or not, so a typo in a layer that
today's recipe does not use still fails the build instead of waiting for the one recipe that would
select it.
"""

from __future__ import annotations

from collections.abc import Iterable

from aicrc import diagnostics as diag
from aicrc.compiler.load.program import Program
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.walk import Visitor
from aicrc.source import Span
from aicrc.vocabulary import CHECK_PHASES, COMPONENT_KINDS, LAYER_KINDS


def check_references(program: Program, modules: Iterable[ast.Module], problems: diag.Collector) -> None:
    """Add a diagnostic to `problems` for every unknown name in `modules`."""
    checker = _Checker(program, problems)
    for module in modules:
        checker.walk_all(module.items)


class _Checker(Visitor):
    def __init__(self, program: Program, problems: diag.Collector) -> None:
        self.program = program
        self.problems = problems

    # -- declarations --
    def visit_Import(self, node: ast.Import) -> None:
        pass  # resolved by the loader

    def visit_Dimension(self, node: ast.Dimension) -> None:
        dimension = self.program.dimensions.get(node.name.text)
        if dimension is None:
            return  # an `extend` of a dimension that does not exist: reported by the loader
        known = set(dimension.values)
        for family in node.families:
            for member in family.members:
                self._value(dimension.name, member, known)
        for alias in node.aliases:
            self._value(dimension.name, alias.target, known)
        for default in node.defaults:
            self._value(dimension.name, default.value, known)
            if default.when is not None:
                self.walk(default.when)

    def visit_Component(self, node: ast.Component) -> None:
        kind = node.kind.text if node.kind else "helm"
        if kind not in COMPONENT_KINDS:
            self.problems.add(
                "E0306",
                f"unknown component kind `{kind}`",
                node.kind.span if node.kind else node.name.span,
                help="a component is `kind helm` (the default) or `kind manifests`",
            )
        elif kind == "helm" and node.chart is None:
            self.problems.add(
                "E0306",
                f"component `{node.name.text}` has no chart",
                node.name.span,
                help='add `chart NAME from "REPOSITORY" version "VERSION"`, or `kind manifests` for a manifests-only component',
            )
        elif kind == "manifests" and node.chart is not None:
            self.problems.add(
                "E0306",
                f"component `{node.name.text}` is `kind manifests` but names a chart",
                node.chart.span,
                help="remove the chart, or make the component `kind helm`",
            )
        if node.namespace is None:
            self.problems.add(
                "E0306",
                f"component `{node.name.text}` has no namespace",
                node.name.span,
                help="add `namespace NAME`: the namespace its chart or manifests install into",
            )
        self._components(node.needs)

    def visit_Layer(self, node: ast.Layer) -> None:
        self._one_of("E0305", "layer kind", node.kind, LAYER_KINDS, "layer kinds, lowest precedence first")
        if node.when is not None:
            self.walk(node.when)
        self.walk_all(node.body)

    def visit_Recipe(self, node: ast.Recipe) -> None:
        self.walk_all(node.body)  # bindings are checked when the recipe is compiled, with the other criteria

    # -- statements --
    def visit_Use(self, node: ast.Use) -> None:
        self._components(node.components)

    def visit_Drop(self, node: ast.Drop) -> None:
        self._components(node.components)

    def visit_Set(self, node: ast.Set) -> None:
        first = node.path.segments[0]
        if first not in self.program.components:
            span = node.path.span
            self.problems.add(
                "E0301",
                f"unknown component `{first}`",
                Span(span.file, span.line, span.col, span.line, span.col + len(first)),
                notes=("a `set` path starts with the component it configures",),
                help=diag.did_you_mean(first, self.program.components),
            )

    def visit_ValuesBlock(self, node: ast.ValuesBlock) -> None:
        self._component(node.component)

    def visit_AddManifest(self, node: ast.AddManifest) -> None:
        self._component(node.component)

    def visit_Needs(self, node: ast.Needs) -> None:
        self._component(node.component)
        self._components(node.dependencies)

    def visit_Enable(self, node: ast.Enable) -> None:
        self._features(node.features)

    def visit_Rule(self, node: ast.Rule) -> None:
        self.walk(node.when)
        self._features(node.features)

    def visit_Require(self, node: ast.Require) -> None:
        # measurement names belong to the cluster, not to the program; a phase is a fixed word
        if node.phase is not None:
            self._one_of("E0307", "check phase", node.phase, CHECK_PHASES, "phases")

    def visit_Check(self, node: ast.Check) -> None:
        self._one_of("E0307", "check phase", node.phase, CHECK_PHASES, "phases")

    # -- predicates --
    def visit_Compare(self, node: ast.Compare) -> None:
        self._predicate_values(node.dimension, (node.value,))

    def visit_In(self, node: ast.In) -> None:
        self._predicate_values(node.dimension, node.values)

    # -- helpers --
    def _one_of(self, code: str, what: str, name: ast.Name, words: tuple[str, ...], listed_as: str) -> None:
        """`name` must be one of the language's fixed `words` (vocabulary.py)."""
        if name.text not in words:
            self.problems.add(
                code,
                f"unknown {what} `{name.text}`",
                name.span,
                notes=(f"{listed_as}: {', '.join(words)}",),
                help=diag.did_you_mean(name.text, words),
            )

    def _predicate_values(self, name: ast.Name, values: tuple[ast.Name, ...]) -> None:
        dimension = self.program.dimensions.get(name.text)
        if dimension is None:
            self.problems.add(
                "E0303",
                f"unknown dimension `{name.text}`",
                name.span,
                notes=(f"dimensions: {diag.one_of(self.program.dimensions)}",),
                help=diag.did_you_mean(name.text, self.program.dimensions),
            )
            return
        known = dimension.known_names()
        for value in values:
            self._value(dimension.name, value, known)

    def _value(self, dimension: str, name: ast.Name, known: set[str]) -> None:
        if name.text not in known:
            self.problems.add(
                "E0304",
                f"`{name.text}` is not a value of dimension `{dimension}`",
                name.span,
                notes=(f"allowed: {diag.one_of(known)}",),
                help=diag.did_you_mean(name.text, known),
            )

    def _component(self, name: ast.Name) -> None:
        if name.text not in self.program.components:
            help = diag.did_you_mean(name.text, self.program.components)
            self.problems.add("E0301", f"unknown component `{name.text}`", name.span, help=help)

    def _components(self, names: Iterable[ast.Name]) -> None:
        for name in names:
            self._component(name)

    def _features(self, names: Iterable[ast.Name]) -> None:
        for name in names:
            if name.text not in self.program.features:
                help = diag.did_you_mean(name.text, self.program.features)
                self.problems.add("E0302", f"unknown feature `{name.text}`", name.span, help=help)
