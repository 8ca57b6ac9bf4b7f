"""What the language server knows about one open document, without any LSP types (so it is
tested directly): its diagnostics, the names and value paths in it, and the program and compiled
recipe they resolve against.

A recipe file is compiled as it stands in the editor. A library file (standard library, overlay)
is loaded into the library with the editor's text, and value paths in it are shown for a
representative recipe: the first recipe of the workspace that applies the layer in question.
Nothing here raises for a user's text: whatever does not parse or compile becomes a diagnostic,
and the last analysis that got further keeps serving names for completion.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aicrc import diagnostics as diag
from aicrc.compiler.load import loader
from aicrc.compiler.load.references import check_references
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import parse
from aicrc.records import Record
from aicrc.source import SourceFile, Span
from aicrc.tools.lint import rules
from aicrc.tools.lint.run import lint

if TYPE_CHECKING:
    from aicrc.api import Compilation


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


@dataclass
class Analysis:
    path: Path
    display: str
    text: str
    module: ast.Module | None = None
    program: loader.Program | None = None
    compilation: Compilation | None = None  # the recipe's own, when the file is a recipe
    diagnostics: list[diag.Diagnostic] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    library_file: bool = False

    def at(self, line: int, col: int) -> Ref | None:
        """The innermost reference at a 1-based position."""
        hits = [r for r in self.refs if _contains(r.span, line, col)]
        return min(hits, key=lambda r: (r.span.end_line - r.span.line, r.span.end_col - r.span.col), default=None)


def _contains(span: Span, line: int, col: int) -> bool:
    return (span.line, span.col) <= (line, col) <= (span.end_line, span.end_col)


class Workspace:
    """The library, loaded once, and the analyses of open documents."""

    def __init__(self, root: Path | None = None, overlays: Sequence[str] = ()) -> None:
        self.root = root
        self.overlays = list(overlays)
        self._library: loader.Program | None = None
        self._representatives: dict[tuple[int, str], Compilation | None] = {}
        self.last_good: dict[Path, Analysis] = {}

    # ---- the library ------------------------------------------------------------------------------

    def library(self) -> loader.Program:
        if self._library is None:
            self._library = loader.load_library(loader.default_roots(self.overlays))
        return self._library

    def reload(self) -> None:
        """A file of the library changed on disk."""
        self._library = None
        self._representatives.clear()

    def display(self, path: Path) -> str:
        if self.root is not None:
            try:
                return path.resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                pass
        return path.as_posix()

    # ---- analysing a document ---------------------------------------------------------------------

    def analyse(self, path: Path, text: str) -> Analysis:
        analysis = Analysis(path, self.display(path), text)
        try:
            library = self.library()
        except diag.AicrcError as failure:
            analysis.diagnostics += self._place(failure.diagnostics, analysis)
            return analysis
        known = library.resolved_paths.get(path.resolve())
        if known is not None:
            analysis.display, analysis.library_file = known, True
        source = SourceFile(analysis.display, text, path)
        try:
            analysis.module = parse(source, store=False)
        except diag.AicrcError as failure:
            analysis.diagnostics += self._place(failure.diagnostics, analysis)
            return analysis
        analysis.refs = list(references(analysis.module, text))
        try:
            self._resolve(analysis, library, source)
        except diag.AicrcError as failure:
            analysis.diagnostics += self._place(failure.diagnostics, analysis)
        if analysis.program is not None:
            enabled = rules.enabled_features(analysis.program.modules.values())
            sources: dict[str, SourceFile] = {}
            analysis.diagnostics += self._place(lint(analysis.program, [analysis.display], enabled, sources), analysis)
            self.last_good[path] = analysis
        return analysis

    def _resolve(self, analysis: Analysis, library: loader.Program, source: SourceFile) -> None:
        from aicrc.api import Library

        assert analysis.module is not None
        if analysis.library_file:
            on_disk = library.sources.get(analysis.display)
            if on_disk is not None and on_disk.text == analysis.text:
                program = library
            else:
                program = loader.load_library(library.roots, texts={analysis.path.resolve(): analysis.text})
            check_references(program)
            analysis.program = program
        elif any(isinstance(item, ast.Recipe) for item in analysis.module.items):
            analysis.compilation = Library(library).compile_buffer(source, analysis.path.parent)
            analysis.program = analysis.compilation.program
            analysis.diagnostics += [
                diag.Diagnostic("W0001", warning, Span(analysis.display, 1, 1, 1, 1), severity="warning")
                for warning in analysis.compilation.warnings
            ]
        else:  # a file of an overlay that is not loaded: check it as one
            program = loader.add_recipe_source(library, source, analysis.path.parent)
            check_references(program)
            analysis.program = program

    def _place(self, diagnostics: Sequence[diag.Diagnostic], analysis: Analysis) -> list[diag.Diagnostic]:
        """Diagnostics for this document: those in other files (an import, a manifest, a broken
        library file) are shown at the top of this one, naming their file."""
        placed = []
        for diagnostic in diagnostics:
            if diagnostic.span is not None and diagnostic.span.file == analysis.display:
                placed.append(diagnostic)
            else:
                where = f" (in {diagnostic.span})" if diagnostic.span is not None else ""
                placed.append(diagnostic.replace(message=diagnostic.message + where, span=Span(analysis.display, 1, 1, 1, 1)))
        return placed

    # ---- a recipe to show library values with --------------------------------------------------

    def representative(self, analysis: Analysis, layer: str | None) -> Compilation | None:
        """The first workspace recipe (the flagship first) that applies `layer`, compiled in the
        document's program; any recipe if none does."""
        if analysis.compilation is not None:
            return analysis.compilation
        if analysis.program is None or self.root is None:
            return None
        from aicrc.api import Library

        candidates = sorted((self.root / "recipes").glob("*.aicr"), key=lambda p: (p.name != "blackwell-eks-training.aicr", p.name))
        fallback = None
        for recipe in candidates:
            key = (id(analysis.program), str(recipe))
            if key not in self._representatives:
                try:
                    self._representatives[key] = Library(analysis.program).compile_file(recipe)
                except diag.AicrcError:
                    self._representatives[key] = None
            compiled = self._representatives[key]
            if compiled is None:
                continue
            if layer is None or any(applied.name == layer for applied in compiled.resolved.layers):
                return compiled
            fallback = fallback or compiled
        return fallback


# ---- names and paths in a module -----------------------------------------------------------------


def references(module: ast.Module, text: str) -> Iterator[Ref]:
    lines = text.split("\n")
    for item in module.items:
        if isinstance(item, ast.Import):
            yield Ref("import", item.target, item.span)
        elif isinstance(item, ast.Dimension):
            dimension = item.name.text
            yield Ref("dimension", dimension, item.name.span, declaration=True)
            for name in item.values:
                yield Ref("value", dimension, name.span, (name.text,), declaration=True)
            for family in item.families:
                yield Ref("value", dimension, family.name.span, (family.name.text,), declaration=True)
                yield from (Ref("value", dimension, m.span, (m.text,)) for m in family.members)
            for alias in item.aliases:
                yield Ref("value", dimension, alias.name.span, (alias.name.text,), declaration=True)
                yield Ref("value", dimension, alias.target.span, (alias.target.text,))
            for default in item.defaults:
                yield Ref("value", dimension, default.value.span, (default.value.text,))
                if default.when is not None:
                    yield from _predicate(default.when)
        elif isinstance(item, ast.Component):
            name = item.name.text
            yield Ref("component", name, item.name.span, declaration=True)
            yield from (Ref("component", n.text, n.span) for n in item.needs)
            if item.values is not None:
                yield from _entries(name, (), item.values, lines)
        elif isinstance(item, ast.Feature):
            yield Ref("feature", item.name.text, item.name.span, declaration=True)
            yield from _body(item.body, lines)
        elif isinstance(item, ast.Layer):
            yield Ref("layer", item.name.text, item.name.span, declaration=True)
            if item.when is not None:
                yield from _predicate(item.when)
            yield from _body(item.body, lines)
        elif isinstance(item, ast.Recipe):
            yield Ref("recipe", item.name.text, item.name.span, declaration=True)
            for binding in item.bindings:
                yield Ref("dimension", binding.dimension.text, binding.dimension.span)
                yield Ref("value", binding.dimension.text, binding.value.span, (binding.value.text,))
            yield from _body(item.body, lines)


def _body(statements: Sequence[ast.Statement], lines: list[str]) -> Iterator[Ref]:
    for statement in statements:
        if isinstance(statement, (ast.Use, ast.Drop)):
            yield from (Ref("component", n.text, n.span) for n in statement.components)
        elif isinstance(statement, ast.Set):
            yield from _path_refs(statement.path, (), lines, component_first=True)
        elif isinstance(statement, ast.ValuesBlock):
            yield Ref("component", statement.component.text, statement.component.span)
            yield from _entries(statement.component.text, (), statement.body, lines)
        elif isinstance(statement, ast.Needs):
            yield Ref("component", statement.component.text, statement.component.span)
            yield from (Ref("component", n.text, n.span) for n in statement.dependencies)
        elif isinstance(statement, ast.AddManifest):
            yield Ref("component", statement.component.text, statement.component.span)
        elif isinstance(statement, ast.Enable):
            yield from (Ref("feature", n.text, n.span) for n in statement.features)
        elif isinstance(statement, ast.Rule):
            yield from _predicate(statement.when)
            yield from (Ref("feature", n.text, n.span) for n in statement.features)


def _predicate(predicate: ast.Predicate) -> Iterator[Ref]:
    if isinstance(predicate, (ast.And, ast.Or)):
        for item in predicate.items:
            yield from _predicate(item)
    elif isinstance(predicate, ast.Not):
        yield from _predicate(predicate.item)
    else:
        dimension = predicate.dimension.text
        yield Ref("dimension", dimension, predicate.dimension.span)
        values = (predicate.value,) if isinstance(predicate, ast.Compare) else predicate.values
        yield from (Ref("value", dimension, v.span, (v.text,)) for v in values)


def _entries(component: str, prefix: tuple[str, ...], body: ast.MapValue, lines: list[str]) -> Iterator[Ref]:
    for entry in body.entries:
        yield from _path_refs(entry.path, (component, *prefix), lines)
        if isinstance(entry.value, ast.MapValue):
            yield from _entries(component, (*prefix, *entry.path.segments), entry.value, lines)


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
