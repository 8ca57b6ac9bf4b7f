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

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.memo import PerObject
from aicrc.compiler.load import loader
from aicrc.compiler.load.references import check_references
from aicrc.compiler.load.resolve import resolve
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import parse
from aicrc.lsp.references import Ref, references
from aicrc.source import SourceFile, Span
from aicrc.tools.lint import rules
from aicrc.tools.lint.run import lint

if TYPE_CHECKING:
    from aicrc.api import Compilation


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
            from aicrc.api import load_library

            self._library = load_library(self.overlays).program
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
            enabled = _enabled_features(analysis.program)
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
                program = with_edited_file(library, source, analysis.module) or loader.load_library(
                    library.roots, texts={analysis.path.resolve(): analysis.text}
                )
            analysis.program = program
        elif any(isinstance(item, ast.Recipe) for item in analysis.module.items):
            analysis.compilation = Library(library).compile_buffer(source, analysis.path.parent)
            analysis.program = analysis.compilation.program
            analysis.diagnostics += self._place(analysis.compilation.warnings, analysis)
        else:  # a file of an overlay that is not loaded: check it as one
            program = loader.add_recipe_source(library, source, analysis.path.parent)
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


# The features each module enables, remembered with the module: a keystroke re-parses one file,
# and the others' modules are the very objects of the last analysis.
_ENABLED: PerObject[set[str]] = PerObject()


def _enabled_features(program: loader.Program) -> set[str]:
    found: set[str] = set()
    for module in program.modules.values():
        found |= _ENABLED.get(module, partial(rules.enabled_features, [module]))
    return found


def with_edited_file(library: loader.Program, source: SourceFile, module: ast.Module) -> loader.Program | None:
    """The library with one of its files as the editor holds it, re-checked and re-resolved alone;
    None when the edit changes what the file shows the rest of the library (the names it defines,
    what it imports, the components it uses, a dimension), which only a full reload checks.

    Every other file was checked against names only, and each definition is resolved on its own,
    so a file that defines, imports and uses the same names leaves the rest as it was: a keystroke
    in a library of 10,000 components re-parses and re-resolves one file, not all of them."""
    old = library.modules.get(source.display)
    if old is None or _outline(old) is None or _outline(old) != _outline(module):
        return None
    program = library.copy()
    program.sources[source.display] = source
    program.modules[source.display] = module
    tables: dict[type, tuple[str, dict[str, Any]]] = {
        ast.Component: ("component", program.components),
        ast.Feature: ("feature", program.features),
        ast.Layer: ("layer", program.layers),
        ast.Recipe: ("recipe", program.recipes),
    }
    for item in module.items:
        if type(item) in tables:
            kind, table = tables[type(item)]
            name = item.name.text  # type: ignore[union-attr]
            table[name] = item
            if kind == "component":
                del program.component_defs[name]
            else:
                del program.bodies[(kind, name)]
    problems = diag.Collector()
    check_references(program, [module], problems)
    if not problems.diagnostics:
        resolve(program, [module], problems)
    problems.raise_if_any(program.sources)
    return program


def _outline(module: ast.Module) -> tuple[tuple[str, ...], ...] | None:
    """What a module shows the rest of the library: its definitions (kind and name, in order), its
    imports and the components it uses; None for a module that declares a dimension (every
    predicate depends on it). Remembered with the module, so an edit works out the new one only."""
    return _OUTLINES.get(module, partial(_outline_of, module))


_OUTLINES: PerObject[tuple[tuple[str, ...], ...] | None] = PerObject()


def _outline_of(module: ast.Module) -> tuple[tuple[str, ...], ...] | None:
    if any(isinstance(item, ast.Dimension) for item in module.items):
        return None
    defined = tuple(f"{type(item).__name__} {item.name.text}" for item in module.items if not isinstance(item, ast.Import))
    imported = tuple(item.target for item in module.items if isinstance(item, ast.Import))
    bodies = (item.body for item in module.items if isinstance(item, ast.Layer | ast.Feature | ast.Recipe))
    used = sorted({name.text for body in bodies for statement in body if isinstance(statement, ast.Use) for name in statement.components})
    return defined, imported, tuple(used)


def internal_error(failure: Exception, analysis: Analysis) -> diag.Diagnostic:
    """An exception from aicrc itself (a bug some text triggers) as a diagnostic on the document,
    so an editor shows it instead of going quiet: at the offending character when that is certain.
    `Workspace.analyse` lets such exceptions out, so that tests see them as failures."""
    cause = getattr(failure, "orig_exc", failure)  # Lark wraps what a transformer raised in a VisitError
    detail = str(cause).split("\n", 1)[0][:300]
    return diag.Diagnostic(
        "E0001",
        f"internal error in aicrc while analysing this file ({type(cause).__name__}: {detail})",
        _failure_span(failure, analysis),
        help="this is a bug in aicrc, not necessarily in the file; please report it with the file (the server's log has the details)",
    )


def _failure_span(failure: Exception, analysis: Analysis) -> Span:
    """The character a codec could not handle, when it is in this text; else the top of the file
    (a position an exception carries, such as Lark's tree node, may be in another file)."""
    if isinstance(failure, UnicodeEncodeError) and failure.object == analysis.text:
        text, offset = analysis.text, failure.start
        line, col = text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
        return Span(analysis.display, line, col, line, col + 1)
    return Span(analysis.display, 1, 1, 1, 1)
