"""Value paths against a component's values schema (`schema "schemas/gpu-operator.schema.json"`).

A schema lists the keys a chart has; where it closes an object (`additionalProperties: false`), a
key outside the list is a typo or a key of another chart version (L0107). At the value itself the
schema's type rules apply, checked with jsonschema (L0108). `null` is always allowed: in Helm it
deletes the chart's default, whatever the key's type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aicrc import diagnostics as diag
from aicrc.compiler.load.loader import Program
from aicrc.compiler.syntax import ast
from aicrc.tools.lint.rules import Write

Schema = dict[str, Any]


class Schemas:
    """The values schemas of a program's components, read once each."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.loaded: dict[str, Schema | None] = {}
        self.problems: list[diag.Diagnostic] = []  # a schema that cannot be read: the check cannot run

    def of(self, component: str) -> Schema | None:
        if component not in self.loaded:
            self.loaded[component] = self._read(self.program.components.get(component))
        return self.loaded[component]

    def _read(self, component: ast.Component | None) -> Schema | None:
        if component is None or component.schema is None:
            return None
        owner = self.program.sources[component.span.file]
        if owner.path is None:
            return None
        path = owner.path.parent / str(component.schema.value)
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as failure:
            self.problems.append(
                diag.Diagnostic(
                    "E0306",
                    f"cannot read the values schema of component `{component.name.text}`: {failure}",
                    component.schema.span,
                    help="the path is relative to the component's file and must name a JSON Schema",
                )
            )
            return None
        return schema if isinstance(schema, dict) else None


def check_write(write: Write, schema: Schema, chart: str) -> Iterator[diag.Diagnostic]:
    node = schema
    for depth, segment in enumerate(write.path):
        node = object_view(schema, node)
        properties = node.get("properties", {})
        if segment in properties:
            node = properties[segment]
            continue
        extra = node.get("additionalProperties", True)
        if extra is False:
            known = ".".join((write.component, *write.path[:depth])) if depth else write.component
            shown = ".".join((write.component, *write.path[: depth + 1]))
            yield diag.Diagnostic(
                "L0107",
                f"`{shown}` is not a value of the {chart} chart",
                write.key,
                severity="warning",
                notes=(f"keys under `{known}`: {diag.one_of(properties)}",),
                help=diag.did_you_mean(segment, properties) or "check the key against the chart's values.yaml for the pinned version",
            )
            return
        if not isinstance(extra, dict):
            return  # a free-form part of the chart (labels, affinity, ...): anything goes below
        node = extra
    if write.value is None:
        return
    from jsonschema import Draft202012Validator

    # `$defs` travel with the sub-schema, so `#/$defs/...` references still resolve
    validator = Draft202012Validator({**_resolve(schema, node), "$defs": schema.get("$defs", {})})
    error = next(iter(validator.iter_errors(write.value)), None)
    if error is not None:
        shown = ".".join((write.component, *write.path))
        yield diag.Diagnostic(
            "L0108",
            f"`{shown}`: {error.message}",
            write.value_span,
            severity="warning",
            help=f"the {chart} chart expects {_expected(node, schema)} here",
        )


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
    kinds = node.get("type") or [_resolve(root, b).get("type") for b in node.get("anyOf", node.get("oneOf", []))]
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
