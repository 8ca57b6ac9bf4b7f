"""Stage 2, load: files -> Program.

A program is the standard library, then each private overlay directory (`--overlay DIR`, then
`AICRC_PATH`), then the recipe file and whatever it imports. Library and overlay folders are
loaded whole (a partner's overlay extends the library without anyone importing it); `import`
pulls in further files, searched in the same order, or relative to the importing file when the
path starts with `./` or `../`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from aicrc import diagnostics as diag
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import check_size, parse
from aicrc.records import Record
from aicrc.resources import stdlib_dir
from aicrc.source import SourceFile, Span

SUFFIX = ".aicr"


class SearchRoot(Record):
    """A folder that imports are resolved against, and the prefix its files are shown with."""

    label: str
    directory: Path

    def display(self, path: Path) -> str:
        return f"{self.label}/{path.relative_to(self.directory).as_posix()}"


class DimensionDef(Record):
    """A dimension after every `extend dimension` from overlays has been folded in."""

    name: str
    declaration: ast.Dimension
    values: dict[str, ast.Name]
    families: dict[str, ast.Family]
    aliases: dict[str, ast.Alias]
    defaults: tuple[ast.Default, ...]

    def expand(self, name: str) -> frozenset[str]:
        """The concrete values a name in a predicate stands for (a family, an alias, or itself)."""
        if name in self.families:
            return frozenset(m.text for m in self.families[name].members)
        if name in self.aliases:
            return frozenset({self.aliases[name].target.text})
        return frozenset({name})

    def known_names(self) -> set[str]:
        return set(self.values) | set(self.families) | set(self.aliases)


@dataclass
class Program:
    """Every definition visible to a compilation, indexed by name, with the files they came from."""

    roots: tuple[SearchRoot, ...]
    sources: dict[str, SourceFile] = field(default_factory=dict)
    modules: dict[str, ast.Module] = field(default_factory=dict)
    dimensions: dict[str, DimensionDef] = field(default_factory=dict)
    components: dict[str, ast.Component] = field(default_factory=dict)
    features: dict[str, ast.Feature] = field(default_factory=dict)
    layers: dict[str, ast.Layer] = field(default_factory=dict)
    recipes: dict[str, ast.Recipe] = field(default_factory=dict)
    resolved_paths: dict[Path, str] = field(default_factory=dict)  # file on disk -> display name, loaded once
    references_checked: bool = False  # set by evaluation, which checks names once per program

    def copy(self) -> Program:
        return replace(
            self,
            references_checked=False,
            sources=dict(self.sources),
            modules=dict(self.modules),
            dimensions=dict(self.dimensions),
            components=dict(self.components),
            features=dict(self.features),
            layers=dict(self.layers),
            recipes=dict(self.recipes),
            resolved_paths=dict(self.resolved_paths),
        )


# ---- reading files -------------------------------------------------------------------------------


def find_sources(paths: Sequence[str]) -> list[tuple[Path, str]]:
    """The `.aicr` files named on a command line: files as given, folders searched recursively
    (sorted). Each comes with the name to show for it."""
    found: list[tuple[Path, str]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += [(file, file.as_posix()) for file in sorted(path.rglob("*.aicr"))]
        else:
            found.append((path, given))
    return found


def read_source(path: Path, display: str) -> SourceFile:
    """Read a file as UTF-8, turning every way that can fail into a diagnostic."""
    try:
        if path.is_dir():
            raise diag.error("E0104", f"{display} is a directory, not a recipe file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise diag.error("E0104", f"no such file: {display}", help="check the path; recipes end in .aicr") from None
    except OSError as failure:
        raise diag.error("E0104", f"cannot read {display}: {failure.strerror}") from None
    check_size(display, len(data))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as failure:
        line = data.count(b"\n", 0, failure.start) + 1
        col = failure.start - (data.rfind(b"\n", 0, failure.start) + 1) + 1
        raise diag.error(
            "E0103",
            f"{display} is not UTF-8 text (byte 0x{data[failure.start]:02x} at offset {failure.start})",
            Span(display, line, col, line, col + 1),
            help="save the file as UTF-8",
        ) from None
    return SourceFile(display, text.removeprefix("\ufeff"), path)


# ---- building a program --------------------------------------------------------------------------


def default_roots(overlays: Sequence[str | os.PathLike[str]] = (), *, use_env: bool = True) -> tuple[SearchRoot, ...]:
    roots = [SearchRoot("stdlib", stdlib_dir())]
    extra = [os.fspath(o) for o in overlays]
    if use_env and os.environ.get("AICRC_PATH"):
        extra += [p for p in os.environ["AICRC_PATH"].split(os.pathsep) if p]
    for entry in extra:
        directory = Path(entry)
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
        self.problems.add(
            "E0203",
            f"{kind} `{name.text}` is defined twice",
            name.span,
            labels=(diag.Label(first.span, "first defined here"),),
            help=f"rename one of them, or change the existing {kind} from a layer instead of redefining it",
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


def read_manifest(program: Program, component: str, manifest: ast.Literal) -> tuple[str, str]:
    """(display name, text) of a manifest file named relative to the file that names it."""
    owner = program.sources[manifest.span.file]
    if owner.path is None:
        raise diag.error("E0306", "a recipe given as text cannot name manifest files", manifest.span)
    relative = str(manifest.value)
    path = owner.path.parent / relative
    base = owner.display.rsplit("/", 1)[0] if "/" in owner.display else "."
    display = os.path.normpath(f"{base}/{relative}").replace(os.sep, "/")
    try:
        source = read_source(path, display)
    except diag.AicrcError as failure:
        first = failure.diagnostics[0]
        raise diag.error("E0306", f"manifest of component `{component}`: {first.message}", manifest.span) from None
    return display, source.text
