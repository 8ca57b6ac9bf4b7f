"""Values against a component's values schema (`schema "schemas/gpu-operator.schema.json"`).

A schema lists the keys a chart has; where it closes an object (`additionalProperties: false`), a
key outside the list is a typo or a key of another chart version. At the value itself the schema's
type rules apply, checked with jsonschema. `null` is always allowed: in Helm it deletes the chart's
default, whatever the key's type. The compiler warns with these checks; `aicrc check` reports them
as findings; the language server completes keys from `properties_at`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aicrc import diagnostics as diag
from aicrc.compiler.load.program import Schema
from aicrc.source import Span


def check_value(
    component: str,
    path: tuple[str, ...],
    value: Any,
    schema: Schema,
    chart: str,
    codes: tuple[str, str],
    key: Span | None,
    at: Span | None,
) -> Iterator[diag.Diagnostic]:
    """What `schema` says against one value at `path`: `codes` are (unknown key, wrong value), the
    linter's L0107/L0108 or the compiler's warnings W0002/W0003; `key` and `at` are where the key
    and the value are written."""
    unknown_key, wrong_value = codes
    node = schema
    for depth, segment in enumerate(path):
        node = object_view(schema, node)
        properties = node.get("properties", {})
        if segment in properties:
            node = properties[segment]
            continue
        extra = node.get("additionalProperties", True)
        if extra is False:
            known = ".".join((component, *path[:depth])) if depth else component
            shown = ".".join((component, *path[: depth + 1]))
            yield diag.Diagnostic(
                unknown_key,
                f"`{shown}` is not a value of the {chart} chart",
                key,
                severity="warning",
                notes=(f"keys under `{known}`: {diag.one_of(properties)}",),
                help=diag.did_you_mean(segment, properties) or "check the key against the chart's values.yaml for the pinned version",
            )
            return
        if not isinstance(extra, dict):
            return  # a free-form part of the chart (labels, affinity, ...): anything goes below
        node = extra
    if value is None or _plainly_allowed(_resolve(schema, node), value):
        return
    from jsonschema import Draft202012Validator

    # `$defs` travel with the sub-schema, so `#/$defs/...` references still resolve
    validator = Draft202012Validator({**_resolve(schema, node), "$defs": schema.get("$defs", {})})
    error = next(iter(validator.iter_errors(value)), None)
    if error is not None:
        shown = ".".join((component, *path))
        yield diag.Diagnostic(
            wrong_value,
            f"`{shown}`: {error.message}",
            at,
            severity="warning",
            help=f"the {chart} chart expects {_expected(node, schema)} here",
        )


# Keywords that say nothing about a value (annotations), and JSON Schema's type names by test.
_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "$comment"})
_STRUCTURE = frozenset({"type", "items", "properties", "additionalProperties"})
_TYPE_TESTS = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _plainly_allowed(node: Schema, value: Any) -> bool:
    """True when `node` uses only `type`, `items`, `properties` and `additionalProperties` and
    `value` satisfies them. Most of a chart's schema is exactly that; this answers it without
    importing jsonschema (a compile checks every value). Anything else, or a mismatch, goes to
    jsonschema, which also words the message."""
    if not set(node) <= _ANNOTATIONS | _STRUCTURE:
        return False
    kinds = node.get("type")
    names = [kinds] if isinstance(kinds, str) else kinds
    if names is not None and not (isinstance(names, list) and any(n in _TYPE_TESTS and _TYPE_TESTS[n](value) for n in names)):
        return False
    items = node.get("items")
    if isinstance(value, list) and items is not None:
        return isinstance(items, dict) and all(_plainly_allowed(items, item) for item in value)
    if isinstance(value, dict):
        properties, extra = node.get("properties", {}), node.get("additionalProperties", True)
        for key, item in value.items():
            rule = properties.get(key, extra) if isinstance(properties, dict) else None
            if rule is False or not (rule is True or (isinstance(rule, dict) and _plainly_allowed(rule, item))):
                return False
    return True


def _resolve(root: Schema, node: Schema) -> Schema:
    """Follow local `$ref`s (`#/$defs/name`)."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 32:
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, seen = target, seen + 1
    return node if isinstance(node, dict) else {}


def object_view(root: Schema, node: Schema) -> Schema:
    """The object form of a schema that allows several (`{"anyOf": [{object}, {"type": "null"}]}`)."""
    node = _resolve(root, node)
    if "properties" in node or "additionalProperties" in node:
        return node
    for branch in (*node.get("anyOf", ()), *node.get("oneOf", ()), *node.get("allOf", ())):
        branch = _resolve(root, branch)
        if "properties" in branch or "additionalProperties" in branch:
            return branch
    return node


def _expected(node: Schema, root: Schema) -> str:
    node = _resolve(root, node)
    kinds = node.get("type") or [_resolve(root, b).get("type") for b in node.get("anyOf", node.get("oneOf", [])) or ()]
    if isinstance(kinds, str):
        return kinds
    flat = [k for kind in kinds for k in (kind if isinstance(kind, list) else [kind]) if k]
    return " or ".join(flat) if flat else "another value"


def properties_at(schema: Schema, path: tuple[str, ...]) -> dict[str, Any]:
    """The keys a schema knows below `path` (empty where it knows none), for completion."""
    node: Any = schema
    for key in path:
        node = object_view(schema, node).get("properties", {}).get(key) if isinstance(node, dict) else None
    return object_view(schema, node).get("properties", {}) if isinstance(node, dict) else {}
