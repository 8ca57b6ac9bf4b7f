"""Running the checks over the files named on a command line (or open in an editor).

Each file is checked in the program it belongs to: files of the library (the standard library,
overlays, AICRC_PATH) in the library; other files without a recipe as an overlay on it; each
recipe file in the library plus that recipe (which must compile). Findings are reported only for
the files named, so checking a recipe does not repeat what is wrong in the library.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.schemas import check_value
from aicrc.compiler.load import loader
from aicrc.compiler.load.program import ManifestFile
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import parse
from aicrc.resources import recipes_dir
from aicrc.source import SourceFile
from aicrc.tools.lint import manifests, rules


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
        stand_ins = _stand_ins(library, files)
        if stand_ins:
            library = loader.load_library(roots, texts={known: given.read_text(encoding="utf-8") for given, known in stand_ins.items()})
            files = [(stand_ins.get(path, path), display) for path, display in files]
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
    # a library feature that the shipped recipes enable is an opt-in, not dead code
    shipped = [parse(loader.read_source(path, path.name)) for path in sorted(recipes_dir().glob("*.aicr"))]
    enabled = rules.enabled_features([*program.modules.values(), *(r.program.modules[r.recipe_file] for r in recipes), *shipped])  # type: ignore[index]
    interest = [*in_library, *(display for display, _ in overlay_files)]
    report.findings += lint(program, interest, enabled, report.sources)
    for compilation in recipes:
        report.findings += lint(compilation.program, [compilation.recipe_file], enabled, report.sources)  # type: ignore[list-item]
    report.checked = [*interest, *(c.recipe_file for c in recipes)]  # type: ignore[list-item]
    report.sources.update(program.sources)
    for compilation in recipes:
        report.sources.update(compilation.sources)
    report.findings.sort(key=diag.Diagnostic.sort_key)
    return report


def _stand_ins(library: loader.Program, files: Sequence[tuple[Path, str]]) -> dict[Path, Path]:
    """The named files that stand in for a library file: a checkout's `stdlib/` checked with an
    installed aicrc has its files checked in place of the installed ones, rather than clashing
    with them. A file stands in when it lies where a library file lies under a folder named like
    that file's root, whatever the spelling that named it (`stdlib`, `/abs/stdlib`, `.` inside
    it): paths are compared resolved. A named file that is itself in the library stands in for
    nothing; it is simply checked."""
    found: dict[Path, Path] = {}
    for path, _ in files:
        resolved = path.resolve()
        if resolved in library.resolved_paths or not resolved.is_file():
            continue
        for root in library.roots:
            name = root.directory.name
            folder = next((parent for parent in resolved.parents if parent.name == name), None) if name else None
            counterpart = (root.directory / resolved.relative_to(folder)).resolve() if folder else None
            if counterpart in library.resolved_paths:
                found[path] = counterpart
                break
    return found


def lint(program: loader.Program, files: Iterable[str], enabled: set[str], sources: dict[str, SourceFile]) -> list[diag.Diagnostic]:
    """Every finding in `files` (display names of files in `program`)."""
    interest = set(files)
    findings: list[diag.Diagnostic] = []
    for display in sorted(interest):
        module = program.modules.get(display)
        if module is not None:
            findings += _module(program, module, enabled, sources)
    findings += rules.duplicate_layers(program.layers.values(), interest)
    return findings


def _module(
    program: loader.Program,
    module: ast.Module,
    enabled: set[str],
    sources: dict[str, SourceFile],
) -> Iterator[diag.Diagnostic]:
    for body in rules.bodies(program, module):
        yield from rules.set_twice(body)
        for write in body.writes:
            yield from rules.latest_image_value(write)
            definition = program.component_defs[write.component]
            if definition.schema is not None:
                chart = definition.declaration.chart
                chart_name = chart.name.text if chart else write.component
                schema, codes = definition.schema, ("L0107", "L0108")
                yield from check_value(write.component, write.path, write.value, schema, chart_name, codes, write.key, write.value_span)
        for step in body.steps:
            if step.manifest is not None:
                yield from _manifest(step.manifest, sources)
    for item in module.items:
        if isinstance(item, ast.Feature):
            yield from rules.unused_feature(item, enabled)
        elif isinstance(item, ast.Layer):
            yield from rules.never_selected(item, program)
        elif isinstance(item, ast.Component):
            yield from rules.unpinned_chart(item)
            for manifest in program.component_defs[item.name.text].manifests:
                yield from _manifest(manifest, sources)


def _manifest(manifest: ManifestFile, sources: dict[str, SourceFile]) -> Iterator[diag.Diagnostic]:
    sources[manifest.name] = SourceFile(manifest.name, manifest.text)
    if manifest.error is not None:
        yield manifest.error.replace(code="L0110", severity="warning")
        return
    yield from manifests.check_manifest(manifest.name, manifest.text)
