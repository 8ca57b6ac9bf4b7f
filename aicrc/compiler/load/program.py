"""What the load stage hands on: a checked, resolved Program.

Every name in it refers to something (components, features, dimensions, values), every value a
statement writes is flattened once into `ValueWrite`s with the spans of its key and its value,
and every manifest and values schema a component or layer names has been read and parsed. The
evaluator reads these tables and does no file I/O of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aicrc.compiler.syntax import ast
from aicrc.diagnostics import Diagnostic
from aicrc.records import Record
from aicrc.source import SourceFile, Span

Schema = dict[str, Any]


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


class ValueWrite(Record):
    """One leaf a statement writes: the component, the path below it, the value as plain data (a
    scalar, a whole list, or an empty map), where its key and its value are written."""

    component: str
    path: tuple[str, ...]
    value: Any
    key: Span
    value_span: Span


class ManifestFile(Record):
    """An extra manifest, read and checked to be YAML at load time."""

    name: str  # as shown to users: <stdlib>/components/manifests/runtime.yaml
    text: str
    named_at: Span  # the string in the .aicr file that names it
    error: Diagnostic | None = None  # why it is not YAML: an error where a recipe installs it, a finding in `aicrc check`


class Step(Record):
    """One statement of a layer, feature or recipe body, with what loading resolved for it: the
    leaves a `set` or `values` block writes, or the manifest a `manifest` statement adds."""

    statement: ast.Statement
    writes: tuple[ValueWrite, ...] = ()
    manifest: ManifestFile | None = None


class ComponentDef(Record):
    """A component's declaration with its defaults flattened, manifests read and schema parsed."""

    declaration: ast.Component
    defaults: tuple[ValueWrite, ...]
    manifests: tuple[ManifestFile, ...]
    schema: Schema | None

    @property
    def name(self) -> str:
        return self.declaration.name.text


class Program:
    """Every definition visible to a compilation, indexed by name, with the files they came from.

    The loader fills it; every later stage only reads it (a new recipe makes a new Program). A
    plain class, not a dataclass: importing `dataclasses` took a compile with no cache 13 ms.
    """

    def __init__(self, roots: tuple[SearchRoot, ...]) -> None:
        self.roots = roots
        self.sources: dict[str, SourceFile] = {}
        self.modules: dict[str, ast.Module] = {}
        self.dimensions: dict[str, DimensionDef] = {}
        self.components: dict[str, ast.Component] = {}
        self.features: dict[str, ast.Feature] = {}
        self.layers: dict[str, ast.Layer] = {}
        self.recipes: dict[str, ast.Recipe] = {}
        # resolved at load time, by name
        self.component_defs: dict[str, ComponentDef] = {}
        self.bodies: dict[tuple[str, str], tuple[Step, ...]] = {}  # ("layer"|"feature"|"recipe", name)
        self.used: dict[str, Span] = {}  # component -> the first `use` that names it
        self.resolved_paths: dict[Path, str] = {}  # file on disk -> display name, loaded once

    def copy(self) -> Program:
        """A program to extend with more files, sharing nothing mutable with this one."""
        copied = Program(self.roots)
        copied.__dict__.update({name: dict(table) for name, table in vars(self).items() if isinstance(table, dict)})
        return copied

    def body(self, kind: str, name: str) -> tuple[Step, ...]:
        return self.bodies[(kind, name)]
