"""The abstract syntax tree: frozen dataclasses, each node with the span it came from.

The tree is purely syntactic (what the author wrote, in the order written); meaning is given by
the later stages. Nodes are picklable so parsed files can be cached on disk.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from aicrc.source import Span

Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Name:
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Path:
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


@dataclass(frozen=True, slots=True)
class Literal:
    value: Scalar
    span: Span


@dataclass(frozen=True, slots=True)
class ListValue:
    items: tuple[Value, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Entry:
    path: Path
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class MapValue:
    entries: tuple[Entry, ...]
    span: Span


Value = Literal | ListValue | MapValue


# ---- predicates -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    """`dimension == value` or `dimension != value`; the value may name a family."""

    dimension: Name
    op: str
    value: Name
    span: Span


@dataclass(frozen=True, slots=True)
class In:
    dimension: Name
    values: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Predicate, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Predicate, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Not:
    item: Predicate
    span: Span


Predicate = Compare | In | And | Or | Not
PREDICATE_TYPES = (Compare, In, And, Or, Not)


# ---- statements inside features, layers and recipes -------------------------------------------


@dataclass(frozen=True, slots=True)
class Use:
    components: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Drop:
    components: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Set:
    """`set component.path.to.key = value`: the first segment names the component."""

    path: Path
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class ValuesBlock:
    component: Name
    body: MapValue
    span: Span


@dataclass(frozen=True, slots=True)
class Needs:
    component: Name
    dependencies: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Enable:
    features: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Rule:
    when: Predicate
    features: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Require:
    path: Path
    op: str
    value: Literal | ListValue | MapValue
    span: Span


@dataclass(frozen=True, slots=True)
class Check:
    phase: Name
    names: tuple[Name, ...]
    span: Span


Statement = Use | Drop | Set | ValuesBlock | Needs | Enable | Rule | Require | Check


# ---- declarations -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Import:
    target: str
    span: Span


@dataclass(frozen=True, slots=True)
class Family:
    name: Name
    members: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Alias:
    name: Name
    target: Name
    span: Span


@dataclass(frozen=True, slots=True)
class Default:
    value: Name
    when: Predicate | None
    span: Span


@dataclass(frozen=True, slots=True)
class Dimension:
    """`dimension` declares; `extend dimension` (from an overlay) adds values, families, aliases."""

    name: Name
    values: tuple[Name, ...]
    families: tuple[Family, ...]
    aliases: tuple[Alias, ...]
    defaults: tuple[Default, ...]
    extends: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Chart:
    name: Name
    repository: Literal
    version: Literal
    span: Span


@dataclass(frozen=True, slots=True)
class Component:
    name: Name
    chart: Chart | None
    kind: Name | None
    namespace: Name | None
    needs: tuple[Name, ...]
    manifests: tuple[Literal, ...]
    values: MapValue | None
    span: Span


@dataclass(frozen=True, slots=True)
class Feature:
    name: Name
    body: tuple[Statement, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Layer:
    name: Name
    kind: Name
    when: Predicate | None
    body: tuple[Statement, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Binding:
    dimension: Name
    value: Name
    span: Span


@dataclass(frozen=True, slots=True)
class Recipe:
    name: Name
    bindings: tuple[Binding, ...]
    body: tuple[Statement, ...]
    span: Span


Declaration = Import | Dimension | Component | Feature | Layer | Recipe


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Module:
    """One parsed file: its declarations in source order, and its comments (kept for `aicrc fmt`)."""

    file: str
    items: tuple[Declaration, ...]
    comments: tuple[Comment, ...]
