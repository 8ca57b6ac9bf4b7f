"""Request bodies, JSON or YAML, read into plain data a hostile client cannot make expensive.

The size is capped before a body is read (guard.py); here the text is parsed with no YAML aliases
(a billion-laughs document is made of them; the reference's documents never hold one), nesting no
deeper than MAX_DEPTH, no key given twice, and only finite numbers. YAML plain scalars are read as
the reference's yaml.v3 reads them (`yes` stays a string), JSON as JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from aicrc import diagnostics as diag
from aicrc.compiler.syntax.ast import MAX_NESTING
from aicrc.datadepth import depth
from aicrc.interop import yaml_v3
from aicrc.server.envelope import ApiError, diagnostic_details

# A value nests MAX_NESTING levels in a recipe; a RecipeResult wraps values in four more.
MAX_DEPTH = MAX_NESTING + 8
JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/x-yaml", "application/yaml", "text/yaml", "text/x-yaml")


def media_kind(content_type: str | None, *, yaml_too: bool = True) -> str:
    """ "yaml" for a YAML Content-Type, else "json": no header, or one the API does not know, is read
    as JSON, as the reference reads it (so `curl -d` works)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return "yaml" if yaml_too and media in YAML_TYPES else "json"


def parse(raw: bytes, kind: str) -> Any:
    """The body as plain data; INVALID_REQUEST saying where it is wrong."""
    if not raw.strip():
        raise ApiError("INVALID_REQUEST", "request body is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as failure:
        raise ApiError("INVALID_REQUEST", f"request body is not UTF-8 (byte {failure.start})") from None
    data = _json(text) if kind == "json" else _yaml(text)
    if depth(data) > MAX_DEPTH:
        raise _too_deep()
    return data


def _json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_repeated_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as failure:
        raise ApiError("INVALID_REQUEST", f"invalid JSON: {failure.msg}", {"line": failure.lineno, "column": failure.colno}) from None
    except ValueError as failure:
        raise ApiError("INVALID_REQUEST", f"invalid JSON: {failure}") from None
    except RecursionError:
        raise _too_deep() from None


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"key {key!r} is given twice in one object")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class _BodyLoader(yaml_v3.Loader):
    """yaml.v3's reading, refusing aliases and deep nesting while the document is composed (before
    anything is built from it)."""

    nesting = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, f"an alias (*{event.anchor}): write the value out", event.start_mark)
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise _too_deep()
        try:
            return super().compose_node(parent, index)
        finally:
            self.nesting -= 1


def _yaml(text: str) -> Any:
    loader = _BodyLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as failure:
        mark = getattr(failure, "problem_mark", None)
        where = {"line": mark.line + 1, "column": mark.column + 1} if mark is not None else None
        problem = getattr(failure, "problem", None) or str(failure).splitlines()[0]
        raise ApiError("INVALID_REQUEST", f"invalid YAML: {problem}", where) from None
    except RecursionError:
        raise _too_deep() from None
    finally:
        loader.dispose()
    _check_finite(data)
    return data


def _check_finite(data: Any) -> None:
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise ApiError("INVALID_REQUEST", f"invalid YAML: {node} is not a number a request may hold")
        if isinstance(node, dict):
            stack += node.values()
        elif isinstance(node, list):
            stack += node


def _too_deep() -> ApiError:
    message = f"request body nests more than {MAX_DEPTH} levels"
    return ApiError("INVALID_REQUEST", message, diagnostic_details([diag.Diagnostic("E0106", message)]))
