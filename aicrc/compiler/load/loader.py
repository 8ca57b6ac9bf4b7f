"""Stage 2, load: files -> a checked, resolved Program.

A program is the standard library, then each private overlay directory (`--overlay DIR`, then
`AICRC_PATH`), then the recipe file and whatever it imports. Library and overlay folders are
loaded whole (a partner's overlay extends the library without anyone importing it); `import`
pulls in further files, searched in the same order, or relative to the importing file when the
path starts with `./` or `../`. Once the files are parsed and indexed, the names they use are
checked and what they refer to is resolved (see `program.py`): only the new files each time, so
adding a recipe to a loaded library costs the recipe alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from aicrc import diagnostics as diag
from aicrc.compiler.load.files import SUFFIX, find_sources, read_source
from aicrc.compiler.load.program import DimensionDef, Program, SearchRoot
from aicrc.compiler.load.references import check_references
from aicrc.compiler.load.resolve import resolve
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import parse
from aicrc.resources import stdlib_dir
from aicrc.source import SourceFile, Span

__all__ = [
    "Program",
    "SearchRoot",
    "add_files",
    "add_recipe_file",
    "add_recipe_source",
    "default_roots",
    "find_sources",
    "load_library",
    "read_source",
]

# The label library files are shown with: `<stdlib>/layers/eks.aicr` names the file inside the
# installed library wherever the user stands, and cannot be mistaken for a relative path.
STDLIB_LABEL = "<stdlib>"


# ---- building a program --------------------------------------------------------------------------


def default_roots(overlays: Sequence[str | os.PathLike[str]] = (), *, use_env: bool = True) -> tuple[SearchRoot, ...]:
    roots = [SearchRoot(STDLIB_LABEL, stdlib_dir())]
    extra = [os.fspath(o) for o in overlays]
    if use_env and os.environ.get("AICRC_PATH"):
        extra += [p for p in os.environ["AICRC_PATH"].split(os.pathsep) if p]
    for entry in extra:
        directory = Path(entry)
        if directory.is_file():
            raise diag.error(
                "E0104",
                f"overlay {entry} is a file; overlays are directories",
                help=f"name the folder that holds it: --overlay {os.path.dirname(entry) or '.'}",
            )
        if not directory.is_dir():
            raise diag.error("E0104", f"overlay directory not found: {entry}", help="--overlay and AICRC_PATH name folders of .aicr files")
        roots.append(SearchRoot(os.path.normpath(entry), directory))
    return tuple(roots)


def load_library(roots: tuple[SearchRoot, ...], texts: Mapping[Path, str] | None = None) -> Program:
    """Load every file of the library and overlay roots (and their imports). `texts` replaces
    the contents of some files (resolved paths): an editor's unsaved buffers."""
    program = Program(roots)
    files = [(root, path) for root in roots for path in sorted(root.directory.rglob(f"*{SUFFIX}"))]
    _Loader(program, texts=texts).load([(root.display(path), path) for root, path in files])
    return program


def add_recipe_file(library: Program, path: Path) -> tuple[Program, SourceFile]:
    """A new program: the library plus one recipe file and what it imports."""
    program = library.copy()
    display = os.path.normpath(path) if not path.is_absolute() else path.as_posix()
    loader = _Loader(program, recipe_dir=path.parent)
    loader.load([(display, path)])
    return program, program.sources[display]


def add_files(library: Program, files: Iterable[tuple[str, Path]]) -> Program:
    """A new program: the library plus more library files (display name, path), as an overlay."""
    program = library.copy()
    _Loader(program).load(files)
    return program


def add_recipe_source(library: Program, source: SourceFile, directory: Path | None = None) -> Program:
    """A new program: the library plus a recipe given as text (imports resolve from `directory`)."""
    program = library.copy()
    _Loader(program, recipe_dir=directory).load_sources([source])
    return program


class _Loader:
    def __init__(self, program: Program, recipe_dir: Path | None = None, texts: Mapping[Path, str] | None = None) -> None:
        self.program = program
        self.texts = texts or {}
        self.roots = list(program.roots)
        if recipe_dir is not None:
            label = os.path.normpath(recipe_dir) if not recipe_dir.is_absolute() else recipe_dir.as_posix()
            self.roots.append(SearchRoot(label, recipe_dir))
        self.problems = diag.Collector()
        self.new_modules: list[ast.Module] = []
        self.by_path = program.resolved_paths

    def load(self, files: Iterable[tuple[str, Path]]) -> None:
        for display, path in files:
            self._visit(display, path, stack=[])
        self._finish()

    def load_sources(self, sources: Iterable[SourceFile]) -> None:
        for source in sources:
            self._enter(source, stack=[], store=False)
        self._finish()

    def _finish(self) -> None:
        self._index(self.new_modules)
        # names are checked once the definitions are indexed, and resolved once they are known good
        if not self.problems.diagnostics:
            check_references(self.program, self.new_modules, self.problems)
        if not self.problems.diagnostics:
            resolve(self.program, self.new_modules, self.problems)
        self.problems.raise_if_any(self.program.sources)

    # -- files and imports --
    def _visit(self, display: str, path: Path, stack: list[tuple[str, Span | None]], via: Span | None = None) -> None:
        key = path.resolve()
        if key in self.by_path:
            known = self.by_path[key]
            if any(known == entry for entry, _ in stack):
                self._cycle(known, stack, via)
            return
        try:
            source = SourceFile(display, self.texts[key], path) if key in self.texts else read_source(path, display)
        except diag.AicrcError as failure:
            if via is not None:  # point at the import, not at a file that cannot be shown
                failure = diag.AicrcError([d.replace(span=via) for d in failure.diagnostics])
            self.problems.extend(failure)
            return
        self.by_path[key] = display
        self._enter(source, stack, via, store=key not in self.texts)

    def _enter(self, source: SourceFile, stack: list[tuple[str, Span | None]], via: Span | None = None, *, store: bool = True) -> None:
        self.program.sources[source.display] = source
        try:
            module = parse(source, store=store)
        except diag.AicrcError as failure:
            self.problems.extend(failure)
            return
        self.program.modules[source.display] = module
        self.new_modules.append(module)
        stack = [*stack, (source.display, via)]
        for item in module.items:
            if isinstance(item, ast.Import):
                target = self._resolve_import(item, source)
                if target is not None:
                    self._visit(*target, stack=stack, via=item.span)

    def _resolve_import(self, item: ast.Import, importer: SourceFile) -> tuple[str, Path] | None:
        name = item.target if item.target.endswith(SUFFIX) else item.target + SUFFIX
        if name.startswith(("./", "../")) and importer.path is not None:
            candidate = importer.path.parent / name
            if candidate.is_file():
                base = importer.display.rsplit("/", 1)[0] if "/" in importer.display else "."
                return os.path.normpath(f"{base}/{name}").replace(os.sep, "/"), candidate
            searched = [f"{name} beside {importer.display}"]
        else:
            for root in self.roots:
                candidate = root.directory / name
                if candidate.is_file():
                    return root.display(candidate), candidate
            searched = [root.label for root in self.roots]
        self.problems.add(
            "E0201",
            f'cannot find import "{item.target}"',
            item.span,
            notes=(f"searched: {', '.join(searched)}",),
            help="imports are searched in the standard library, then --overlay folders and AICRC_PATH, then the recipe's folder",
        )
        return None

    def _cycle(self, target: str, stack: list[tuple[str, Span | None]], via: Span | None) -> None:
        start = next(i for i, (entry, _) in enumerate(stack) if entry == target)
        chain = [entry for entry, _ in stack[start:]] + [target]
        labels = tuple(diag.Label(span, "imported here") for _, span in stack[start + 1 :] if span is not None)
        self.problems.add(
            "E0202",
            "import cycle: " + " -> ".join(chain),
            via,
            labels=labels,
            help="move the shared definitions into a file that both import",
        )

    # -- definitions --
    def _index(self, modules: list[ast.Module]) -> None:
        program = self.program
        tables: dict[type, tuple[str, dict]] = {  # type: ignore[type-arg]
            ast.Component: ("component", program.components),
            ast.Feature: ("feature", program.features),
            ast.Layer: ("layer", program.layers),
            ast.Recipe: ("recipe", program.recipes),
        }
        extensions: list[ast.Dimension] = []
        for module in modules:
            for item in module.items:
                if isinstance(item, ast.Dimension):
                    if item.extends:
                        extensions.append(item)
                    elif item.name.text in program.dimensions:
                        self._duplicate("dimension", item.name, program.dimensions[item.name.text].declaration.name)
                    else:
                        program.dimensions[item.name.text] = _dimension(item)
                elif type(item) in tables:
                    kind, table = tables[type(item)]
                    name = item.name.text  # type: ignore[union-attr]
                    if name in table:
                        self._duplicate(kind, item.name, table[name].name)  # type: ignore[union-attr]
                    else:
                        table[name] = item
        for extension in extensions:
            base = program.dimensions.get(extension.name.text)
            if base is None:
                self.problems.add(
                    "E0303",
                    f"`extend dimension {extension.name.text}`: no such dimension",
                    extension.name.span,
                    help=diag.did_you_mean(extension.name.text, program.dimensions) or f"dimensions: {diag.one_of(program.dimensions)}",
                )
                continue
            program.dimensions[base.name] = _extend(base, extension)

    def _duplicate(self, kind: str, name: ast.Name, first: ast.Name) -> None:
        if kind == "dimension":
            hint = f"to add values, families or aliases to it from an overlay, write `extend dimension {name.text} {{ ... }}`"
        elif kind == "component":
            hint = f"rename one of them, or change `{name.text}` from a layer (`values {name.text} {{ ... }}`) instead of redefining it"
        else:
            hint = f"rename one of them: {kind} names are global across the library, overlays and recipe"
        self.problems.add(
            "E0203",
            f"{kind} `{name.text}` is defined twice",
            name.span,
            labels=(diag.Label(first.span, "first defined here"),),
            help=hint,
        )


def _dimension(declaration: ast.Dimension) -> DimensionDef:
    return DimensionDef(
        declaration.name.text,
        declaration,
        {v.text: v for v in declaration.values},
        {f.name.text: f for f in declaration.families},
        {a.name.text: a for a in declaration.aliases},
        declaration.defaults,
    )


def _extend(base: DimensionDef, extension: ast.Dimension) -> DimensionDef:
    families = dict(base.families)
    for family in extension.families:
        if family.name.text in families:  # extending a family adds members
            old = families[family.name.text]
            family = ast.Family(old.name, old.members + family.members, old.span)
        families[family.name.text] = family
    return DimensionDef(
        base.name,
        base.declaration,
        {**base.values, **{v.text: v for v in extension.values}},
        families,
        {**base.aliases, **{a.name.text: a for a in extension.aliases}},
        base.defaults + extension.defaults,
    )
