"""Running the checks over the files named on a command line (or open in an editor).

Each file is checked in the program it belongs to: files of the library (the standard library,
overlays, AICRC_PATH) in the library; other files without a recipe as an overlay on it; each
recipe file in the library plus that recipe (which must compile). Findings are reported only for
the files named, so checking a recipe does not repeat what is wrong in the library.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from aicrc import diagnostics as diag
from aicrc.compiler.load import loader
from aicrc.compiler.load.references import check_references
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import parse
from aicrc.source import SourceFile
from aicrc.tools.lint import manifests, rules, schemas


@dataclass
class Report:
    findings: list[diag.Diagnostic] = field(default_factory=list)
    failures: list[diag.Diagnostic] = field(default_factory=list)  # what kept a file from being checked
    sources: dict[str, SourceFile] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)

    def fail(self, failure: diag.AicrcError) -> None:
        self.failures += failure.diagnostics
        self.sources.update(failure.sources)


def check_paths(paths: Sequence[str], overlays: Sequence[str] = (), *, use_env: bool = True) -> Report:
    report = Report()
    files = loader.find_sources(paths)
    try:
        roots = loader.default_roots(overlays, use_env=use_env)
        library = loader.load_library(roots)
        # A checkout's `stdlib/` checked with an installed aicrc: its files stand in for the
        # installed library's files of the same name, rather than clashing with them.
        by_name = {display: path for path, display in library.resolved_paths.items()}
        stand_ins = {
            by_name[d]: p.read_text(encoding="utf-8") for p, d in files if d in by_name and p.resolve() not in library.resolved_paths
        }
        if stand_ins:
            library = loader.load_library(roots, texts=stand_ins)
            files = [(by_name.get(d, p), d) for p, d in files]
    except (diag.AicrcError, OSError, UnicodeDecodeError) as failure:
        report.fail(failure if isinstance(failure, diag.AicrcError) else diag.error("E0104", f"cannot read input: {failure}"))
        return report
    in_library, overlay_files, recipe_files = [], [], []
    for path, display in files:
        known = library.resolved_paths.get(path.resolve()) if path.exists() else None
        if known is not None:
            in_library.append(known)
            continue
        try:
            module = parse(loader.read_source(path, display))
        except diag.AicrcError as failure:
            report.fail(failure)
            continue
        if any(isinstance(item, ast.Recipe) for item in module.items):
            recipe_files.append(path)
        else:
            overlay_files.append((display, path))
    program = library
    try:
        if overlay_files:
            program = loader.add_files(library, overlay_files)
        check_references(program)
    except diag.AicrcError as failure:
        report.fail(failure)
        return report
    from aicrc.api import Library

    recipes = []
    for path in recipe_files:
        try:
            recipes.append(Library(program).compile_file(path))
        except diag.AicrcError as failure:
            report.fail(failure)
    enabled = rules.enabled_features([*program.modules.values(), *(r.program.modules[r.recipe_file] for r in recipes)])  # type: ignore[index]
    interest = [*in_library, *(display for display, _ in overlay_files)]
    report.findings += lint(program, interest, enabled, report.sources)
    for compilation in recipes:
        report.findings += lint(compilation.program, [compilation.recipe_file], enabled, report.sources)  # type: ignore[list-item]
    report.checked = [*interest, *(c.recipe_file for c in recipes)]  # type: ignore[misc]
    report.sources.update(program.sources)
    for compilation in recipes:
        report.sources.update(compilation.sources)
    report.findings.sort(key=diag.Diagnostic.sort_key)
    return report


def lint(program: loader.Program, files: Iterable[str], enabled: set[str], sources: dict[str, SourceFile]) -> list[diag.Diagnostic]:
    """Every finding in `files` (display names of files in `program`)."""
    interest = set(files)
    values_schemas = schemas.Schemas(program)
    findings: list[diag.Diagnostic] = []
    for display in sorted(interest):
        module = program.modules.get(display)
        if module is not None:
            findings += _module(program, module, enabled, values_schemas, sources)
    findings += rules.duplicate_layers(program.layers.values(), interest)
    return findings + values_schemas.problems


def _module(
    program: loader.Program,
    module: ast.Module,
    enabled: set[str],
    values_schemas: schemas.Schemas,
    sources: dict[str, SourceFile],
) -> Iterator[diag.Diagnostic]:
    for body in rules.bodies(module):
        yield from rules.set_twice(body)
        for write in body.writes:
            yield from rules.latest_image_value(write)
            schema = values_schemas.of(write.component)
            if schema is not None:
                chart = program.components[write.component].chart
                yield from schemas.check_write(write, schema, chart.name.text if chart else write.component)
        for statement in body.statements:
            if isinstance(statement, ast.AddManifest) and statement.component.text in program.components:
                yield from _manifest(program, statement.component.text, statement.file, sources)
    for item in module.items:
        if isinstance(item, ast.Feature):
            yield from rules.unused_feature(item, enabled)
        elif isinstance(item, ast.Layer):
            yield from rules.never_selected(item, program)
        elif isinstance(item, ast.Component):
            yield from rules.unpinned_chart(item)
            for file in item.manifests:
                yield from _manifest(program, item.name.text, file, sources)


def _manifest(program: loader.Program, component: str, file: ast.Literal, sources: dict[str, SourceFile]) -> Iterator[diag.Diagnostic]:
    try:
        display, text = loader.read_manifest(program, component, file)
    except diag.AicrcError as failure:  # an error, not a finding: `aicrc check` exits 2
        yield from failure.diagnostics
        return
    sources[display] = SourceFile(display, text)
    yield from manifests.check_manifest(display, text)
