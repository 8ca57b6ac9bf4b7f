"""The names and value paths written in one module, each with what it refers to (a `Ref`): what
hover, go-to-definition, references, rename and completion of the language server look up by
position. Spans come from the AST; a value path's segments are found in the text of its line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.walk import Visitor
from aicrc.records import Record
from aicrc.source import Span


class Ref(Record):
    """A name or value path in the document and what it refers to.

    kind: component, feature, layer, recipe, dimension, value (a dimension value: `name` is the
    dimension, `target[0]` the value), path (a value path: `target` is component + keys), import.
    """

    kind: str
    name: str
    span: Span
    target: tuple[str, ...] = ()
    declaration: bool = False


def references(module: ast.Module, text: str) -> list[Ref]:
    """Every name and value path written in a module, and what it refers to."""
    collector = _References(text.split("\n"))
    collector.walk_all(module.items)
    return collector.refs


class _References(Visitor):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.refs: list[Ref] = []

    # -- declarations --
    def visit_Import(self, node: ast.Import) -> None:
        self.refs.append(Ref("import", node.target, node.span))

    def visit_Dimension(self, node: ast.Dimension) -> None:
        dimension = node.name.text
        refs = self.refs
        refs.append(Ref("dimension", dimension, node.name.span, declaration=True))
        refs += [Ref("value", dimension, value.span, (value.text,), declaration=True) for value in node.values]
        for family in node.families:
            refs.append(Ref("value", dimension, family.name.span, (family.name.text,), declaration=True))
            refs += [Ref("value", dimension, m.span, (m.text,)) for m in family.members]
        for alias in node.aliases:
            refs.append(Ref("value", dimension, alias.name.span, (alias.name.text,), declaration=True))
            refs.append(Ref("value", dimension, alias.target.span, (alias.target.text,)))
        for default in node.defaults:
            refs.append(Ref("value", dimension, default.value.span, (default.value.text,)))
            if default.when is not None:
                self.walk(default.when)

    def visit_Component(self, node: ast.Component) -> None:
        self.refs.append(Ref("component", node.name.text, node.name.span, declaration=True))
        self._components(node.needs)
        if node.values is not None:
            self._entries(node.name.text, (), node.values)

    def visit_Feature(self, node: ast.Feature) -> None:
        self.refs.append(Ref("feature", node.name.text, node.name.span, declaration=True))
        self.walk_all(node.body)

    def visit_Layer(self, node: ast.Layer) -> None:
        self.refs.append(Ref("layer", node.name.text, node.name.span, declaration=True))
        if node.when is not None:
            self.walk(node.when)
        self.walk_all(node.body)

    def visit_Recipe(self, node: ast.Recipe) -> None:
        self.refs.append(Ref("recipe", node.name.text, node.name.span, declaration=True))
        for binding in node.bindings:
            self.refs.append(Ref("dimension", binding.dimension.text, binding.dimension.span))
            self.refs.append(Ref("value", binding.dimension.text, binding.value.span, (binding.value.text,)))
        self.walk_all(node.body)

    # -- statements --
    def visit_Use(self, node: ast.Use) -> None:
        self._components(node.components)

    visit_Drop = visit_Use

    def visit_Set(self, node: ast.Set) -> None:
        self.refs += _path_refs(node.path, (), self.lines, component_first=True)

    def visit_ValuesBlock(self, node: ast.ValuesBlock) -> None:
        self._components((node.component,))
        self._entries(node.component.text, (), node.body)

    def visit_Needs(self, node: ast.Needs) -> None:
        self._components((node.component, *node.dependencies))

    def visit_AddManifest(self, node: ast.AddManifest) -> None:
        self._components((node.component,))

    def visit_Enable(self, node: ast.Enable) -> None:
        self.refs += [Ref("feature", n.text, n.span) for n in node.features]

    def visit_Rule(self, node: ast.Rule) -> None:
        self.walk(node.when)
        self.refs += [Ref("feature", n.text, n.span) for n in node.features]

    def visit_Require(self, node: ast.Require) -> None:
        pass  # measurements name the cluster's facts, not the program's

    visit_Check = visit_Require

    # -- predicates --
    def visit_Compare(self, node: ast.Compare) -> None:
        self._dimension_values(node.dimension, (node.value,))

    def visit_In(self, node: ast.In) -> None:
        self._dimension_values(node.dimension, node.values)

    # -- helpers --
    def _dimension_values(self, dimension: ast.Name, values: Sequence[ast.Name]) -> None:
        self.refs.append(Ref("dimension", dimension.text, dimension.span))
        self.refs += [Ref("value", dimension.text, v.span, (v.text,)) for v in values]

    def _components(self, names: Sequence[ast.Name]) -> None:
        self.refs += [Ref("component", n.text, n.span) for n in names]

    def _entries(self, component: str, prefix: tuple[str, ...], body: ast.MapValue) -> None:
        for entry in body.entries:
            self.refs += _path_refs(entry.path, (component, *prefix), self.lines)
            if isinstance(entry.value, ast.MapValue):
                self._entries(component, (*prefix, *entry.path.segments), entry.value)


def _path_refs(path: ast.Path, prefix: tuple[str, ...], lines: list[str], *, component_first: bool = False) -> Iterator[Ref]:
    """One reference per segment, each naming the path up to it (the first segment of a `set`
    path names the component)."""
    spans = segment_spans(path, lines)
    for index, (segment, span) in enumerate(zip(path.segments, spans, strict=True)):
        target = (*prefix, *path.segments[: index + 1])
        if component_first and index == 0:
            yield Ref("component", segment, span)
        else:
            yield Ref("path", target[0], span, target)


def segment_spans(path: ast.Path, lines: list[str]) -> list[Span]:
    """Where each segment of a dotted path is written (the path's span when it spans lines)."""
    span = path.span
    if span.line != span.end_line or span.line > len(lines):
        return [span] * len(path.segments)
    text, col, out = lines[span.line - 1], span.col - 1, []
    for _ in path.segments:
        while col < len(text) and text[col] in " \t.":
            col += 1
        start = col
        if col < len(text) and text[col] == '"':
            col += 1
            while col < len(text) and text[col] != '"':
                col += 2 if text[col] == "\\" else 1
            col += 1
        else:
            while col < len(text) and (text[col].isalnum() or text[col] in "_-"):
                col += 1
        out.append(Span(span.file, span.line, start + 1, span.line, col + 1))
    return out
