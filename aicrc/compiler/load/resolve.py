"""Resolving what newly loaded declarations refer to on disk and in their values: flatten every
value write once, read and check every manifest, read every values schema.

Runs after the name checks, so every component a statement names exists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from aicrc import cache
from aicrc import diagnostics as diag
from aicrc.compiler.load import known_manifests
from aicrc.compiler.load.files import read_source
from aicrc.compiler.load.program import ComponentDef, ManifestFile, Program, Schema, Step, ValueWrite
from aicrc.compiler.syntax import ast
from aicrc.source import Span


def resolve(program: Program, modules: list[ast.Module], problems: diag.Collector) -> None:
    """Fill `program.component_defs` and `program.bodies` for the declarations of `modules`."""
    resolver = _Resolver(program, problems)
    for module in modules:
        for item in module.items:
            if isinstance(item, ast.Component) and program.components.get(item.name.text) is item:
                program.component_defs[item.name.text] = resolver.component(item)
            elif isinstance(item, ast.Layer | ast.Feature | ast.Recipe):
                kind = type(item).__name__.lower()
                if program.bodies.get((kind, item.name.text)) is None and _defined(program, kind, item):
                    program.bodies[(kind, item.name.text)] = tuple(resolver.step(s) for s in item.body)


def _defined(program: Program, kind: str, item: ast.Layer | ast.Feature | ast.Recipe) -> bool:
    """Whether `item` is the definition its name is indexed by (a duplicate is reported elsewhere)."""
    if kind == "layer":
        return program.layers.get(item.name.text) is item
    if kind == "feature":
        return program.features.get(item.name.text) is item
    return program.recipes.get(item.name.text) is item


def flatten(component: str, path: tuple[str, ...], value: ast.Value, key: Span) -> Iterator[ValueWrite]:
    """The leaves a value writes: scalars, whole lists and empty maps; maps merge key by key."""
    if isinstance(value, ast.MapValue) and value.entries:
        for entry in value.entries:
            yield from flatten(component, path + entry.path.segments, entry.value, entry.path.span)
    else:
        yield ValueWrite(component, path, to_python(value), key, value.span)


def writes_of(statement: ast.Statement) -> tuple[ValueWrite, ...]:
    """What a `set` or a `values` block writes (nothing for other statements)."""
    if isinstance(statement, ast.Set):
        component, *rest = statement.path.segments  # the grammar guarantees a key after it
        return tuple(flatten(component, tuple(rest), statement.value, statement.path.span))
    if isinstance(statement, ast.ValuesBlock):
        return component_writes(statement.component.text, statement.body)
    return ()


def component_writes(component: str, body: ast.MapValue | None) -> tuple[ValueWrite, ...]:
    if body is None:
        return ()
    return tuple(w for entry in body.entries for w in flatten(component, entry.path.segments, entry.value, entry.path.span))


def to_python(value: ast.Value) -> object:
    """A value as plain data; `a.b = 1` entries in a map nest (`{a: {b: 1}}`)."""
    if isinstance(value, ast.Literal):
        return value.value
    if isinstance(value, ast.ListValue):
        return [to_python(item) for item in value.items]
    result: dict[str, object] = {}
    for entry in value.entries:
        _nest(result, entry.path.segments, to_python(entry.value))
    return result


def _nest(target: dict[str, object], path: tuple[str, ...], value: object) -> None:
    for segment in path[:-1]:
        child = target.get(segment)
        if not isinstance(child, dict):
            child = target[segment] = {}
        target = child
    last = path[-1]
    existing = target.get(last)
    if isinstance(value, dict) and isinstance(existing, dict):
        for key, item in value.items():
            _nest(existing, (key,), item)
    else:
        target[last] = value


class _Resolver:
    def __init__(self, program: Program, problems: diag.Collector) -> None:
        self.program = program
        self.problems = problems

    def component(self, declaration: ast.Component) -> ComponentDef:
        name = declaration.name.text
        manifests = tuple(m for m in (self.manifest(name, file) for file in declaration.manifests) if m is not None)
        return ComponentDef(declaration, component_writes(name, declaration.values), manifests, self.schema(declaration))

    def step(self, statement: ast.Statement) -> Step:
        if isinstance(statement, ast.Use):
            for name in statement.components:
                self.program.used.setdefault(name.text, name.span)
        if isinstance(statement, ast.AddManifest):
            return Step(statement, manifest=self.manifest(statement.component.text, statement.file))
        return Step(statement, writes_of(statement))

    def manifest(self, component: str, named: ast.Literal) -> ManifestFile | None:
        """A manifest named relative to the file that names it, read and checked to be YAML."""
        located = self._beside(named)
        if located is None:
            self.problems.add("E0306", "a recipe given as text cannot name manifest files", named.span)
            return None
        path, display = located
        try:
            source = read_source(path, display)
        except diag.AicrcError as failure:
            first = failure.diagnostics[0]
            help = "a manifest is named relative to the .aicr file that names it"
            self.problems.add("E0306", f"manifest of component `{component}`: {first.message}", named.span, help=help)
            return None
        error = None
        problem = yaml_problem(source.text)
        if problem is not None:
            line, col, message = problem
            self.program.sources[display] = source  # so the error can show the manifest's line
            error = diag.Diagnostic(
                "E0205",
                f"manifest of component `{component}` is not valid YAML: {message}",
                Span(display, line, col, line, col + 1),
                labels=(diag.Label(named.span, "named here"),),
                help="a manifest holds Kubernetes objects as YAML documents separated by `---`",
            )
        return ManifestFile(display, source.text, named.span, error)

    def schema(self, declaration: ast.Component) -> Schema | None:
        if declaration.schema is None:
            return None
        located = self._beside(declaration.schema)
        if located is None:
            return None
        path, display = located
        problem = None
        try:
            schema: object = json.loads(read_source(path, display).text)
            if not isinstance(schema, dict):
                problem = "it is not a JSON object"
        except diag.AicrcError as failure:
            problem = failure.diagnostics[0].message
        except ValueError as failure:
            problem = f"{display} is not JSON: {failure}"
        if problem is not None:
            self.problems.add(
                "E0306",
                f"cannot read the values schema of component `{declaration.name.text}`: {problem}",
                declaration.schema.span,
                help="the path is relative to the component's file and must name a JSON Schema",
            )
            return None
        return schema if isinstance(schema, dict) else None

    def _beside(self, named: ast.Literal) -> tuple[Path, str] | None:
        """The file a string names, relative to the file it is written in, and its display name."""
        owner = self.program.sources[named.span.file]
        if owner.path is None:
            return None
        relative = str(named.value)
        base = owner.display.rsplit("/", 1)[0] if "/" in owner.display else "."
        return owner.path.parent / relative, os.path.normpath(f"{base}/{relative}").replace(os.sep, "/")


def yaml_problem(text: str) -> tuple[int, int, str] | None:
    """Where a manifest stops being YAML (line, column, what), or None; remembered by content, so
    a warm compile does not import the YAML parser, and known for the manifests aicrc ships."""
    if known_manifests.known_valid(text):
        return None
    entry = cache.key("manifest-yaml", text)
    known = cache.load("manifest-yaml", entry)
    if isinstance(known, tuple) or known == "ok":
        return known if isinstance(known, tuple) else None
    import yaml

    try:
        # libyaml's parser is ten times faster; what it refuses, the pure-Python one (whose
        # messages and marks the diagnostics quote) reads again to say where and why.
        for _ in yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            pass
        problem = None
    except yaml.YAMLError:
        problem = _pure_yaml_problem(text)
    cache.store("manifest-yaml", entry, problem or "ok")
    return problem


def _pure_yaml_problem(text: str) -> tuple[int, int, str] | None:
    import yaml

    try:
        for _ in yaml.compose_all(text, Loader=yaml.SafeLoader):
            pass
        problem = None
    except yaml.MarkedYAMLError as failure:
        mark = failure.problem_mark or failure.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        last = text.count("\n") + (0 if text.endswith("\n") else 1)
        if line > last:  # the end of the stream: point just past the last line's text
            line, col = last, len(text.rstrip("\n").rsplit("\n", 1)[-1]) + 1
        problem = (line, col, failure.problem or str(failure).splitlines()[0])
    except yaml.YAMLError as failure:
        problem = (1, 1, str(failure).splitlines()[0])
    return problem
