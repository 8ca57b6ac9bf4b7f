"""The abstract syntax tree: immutable records, each node with the span it came from.

The tree is purely syntactic (what the author wrote, in the order written); meaning is given by
the later stages. Nodes are picklable so parsed files can be cached on disk.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aicrc.records import Record
from aicrc.source import Span

Scalar = str | int | float | bool | None

# The deepest a value or a predicate may nest. Each key of a value path (`a.b.c` is three) and each
# list is one level of a value; each `not`, `and` and `or` is one level of a predicate. The parser
# refuses deeper input (E0106), so every pass over the tree may recurse, and what is emitted stays
# within what YAML and JSON readers accept. Real Helm values nest fewer than 20 levels.
MAX_NESTING = 64

# Integers are 64-bit, as Helm (Go) and most YAML and JSON readers hold them; the parser refuses
# others (E0111).
MIN_INTEGER, MAX_INTEGER = -(2**63), 2**63 - 1


class Name(Record):
    text: str
    span: Span


class Path(Record):
    """A dotted value path; quoted segments (`"nvidia.com/gpu"`) may hold dots and slashes."""

    segments: tuple[str, ...]
    span: Span

    def __str__(self) -> str:
        return format_path(self.segments)


# Mirrors the grammar's NAME terminal: segments that match it print bare, the rest quoted.
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*")


def format_path(segments: tuple[str, ...]) -> str:
    return ".".join(s if _PLAIN_NAME.fullmatch(s) else json.dumps(s) for s in segments)


# ---- values -----------------------------------------------------------------------------------


class Literal(Record):
    value: Scalar
    span: Span


class ListValue(Record):
    items: tuple[Value, ...]
    span: Span


class Entry(Record):
    path: Path
    value: Value
    span: Span


class MapValue(Record):
    entries: tuple[Entry, ...]
    span: Span


Value = Literal | ListValue | MapValue


# ---- predicates -------------------------------------------------------------------------------


class Compare(Record):
    """`dimension == value` or `dimension != value`; the value may name a family."""

    dimension: Name
    op: str
    value: Name
    span: Span


class In(Record):
    dimension: Name
    values: tuple[Name, ...]
    span: Span


class And(Record):
    items: tuple[Predicate, ...]
    span: Span


class Or(Record):
    items: tuple[Predicate, ...]
    span: Span


class Not(Record):
    item: Predicate
    span: Span


Predicate = Compare | In | And | Or | Not
PREDICATE_TYPES = (Compare, In, And, Or, Not)


# ---- statements inside features, layers and recipes -------------------------------------------


class Use(Record):
    components: tuple[Name, ...]
    span: Span


class Drop(Record):
    components: tuple[Name, ...]
    span: Span


class Set(Record):
    """`set component.path.to.key = value`: the first segment names the component."""

    path: Path
    value: Value
    span: Span


class ValuesBlock(Record):
    component: Name
    body: MapValue
    span: Span


class Needs(Record):
    component: Name
    dependencies: tuple[Name, ...]
    span: Span


class AddManifest(Record):
    """`manifest COMPONENT "file"` in a layer: one more manifest for a component, named relative to
    the layer's file (the reference appends manifest files the same way)."""

    component: Name
    file: Literal
    span: Span


class Enable(Record):
    features: tuple[Name, ...]
    span: Span


class Rule(Record):
    when: Predicate
    features: tuple[Name, ...]
    span: Span


class Require(Record):
    """`require MEASUREMENT OP VALUE`: the cluster must measure up before deployment (readiness);
    `require PHASE MEASUREMENT OP VALUE`: what a validation phase's checks must measure."""

    path: Path
    op: str
    value: Literal | ListValue | MapValue
    span: Span
    phase: Name | None = None


class Check(Record):
    phase: Name
    names: tuple[Name, ...]
    span: Span


Statement = Use | Drop | Set | ValuesBlock | Needs | AddManifest | Enable | Rule | Require | Check


# ---- declarations -----------------------------------------------------------------------------


class Import(Record):
    target: str
    span: Span


class Family(Record):
    name: Name
    members: tuple[Name, ...]
    span: Span


class Alias(Record):
    name: Name
    target: Name
    span: Span


class Default(Record):
    value: Name
    when: Predicate | None
    span: Span


class Clause(Record):
    """One statement of a dimension or component body as written, kept in source order for `aicrc
    fmt` (the fields of the declaration group them by meaning)."""

    keyword: str  # values, family, alias, default | chart, kind, namespace, needs, manifest, schema, values
    node: Any  # what the fields hold: Name tuple, Family, Alias, Default, Chart, Name, Literal, MapValue
    span: Span


class Dimension(Record):
    """`dimension` declares; `extend dimension` (from an overlay) adds values, families, aliases."""

    name: Name
    values: tuple[Name, ...]
    families: tuple[Family, ...]
    aliases: tuple[Alias, ...]
    defaults: tuple[Default, ...]
    extends: bool
    clauses: tuple[Clause, ...]
    span: Span


class Chart(Record):
    name: Name
    repository: Literal
    version: Literal
    span: Span


class Component(Record):
    name: Name
    chart: Chart | None
    kind: Name | None
    namespace: Name | None
    needs: tuple[Name, ...]
    manifests: tuple[Literal, ...]
    schema: Literal | None  # a JSON Schema of the chart's values, for `aicrc check`
    values: MapValue | None
    clauses: tuple[Clause, ...]
    span: Span


class Feature(Record):
    name: Name
    body: tuple[Statement, ...]
    span: Span


class Layer(Record):
    name: Name
    kind: Name
    when: Predicate | None
    body: tuple[Statement, ...]
    span: Span


class Binding(Record):
    dimension: Name
    value: Name
    span: Span


class Recipe(Record):
    name: Name
    bindings: tuple[Binding, ...]
    body: tuple[Statement, ...]
    statements: tuple[Binding | Statement, ...]  # both, in source order (for `aicrc fmt`)
    span: Span


Declaration = Import | Dimension | Component | Feature | Layer | Recipe


class Comment(Record):
    text: str
    span: Span


class Module(Record):
    """One parsed file: its declarations in source order, and its comments (kept for `aicrc fmt`)."""

    file: str
    items: tuple[Declaration, ...]
    comments: tuple[Comment, ...]
