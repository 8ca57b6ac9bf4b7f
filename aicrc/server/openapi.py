"""The pieces of the OpenAPI document the routes declare: parameters, bodies, answers and headers.

The routes read their parameters and bodies themselves (bodies.py, reference.py, inputs.py), so
they declare them here; the criteria's values come from the library (its overlays included), so
the document lists what this server accepts. Schemas of models are put under
#/components/schemas once for every route (`Components`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from aicrc.server.bodies import JSON_TYPES, YAML_TYPES
from aicrc.server.reference import ACCELERATOR_ALIAS, NODES, UNSET, Vocabulary

Schema = dict[str, Any]
REF = "#/components/schemas/{model}"

HEADERS: dict[str, Schema] = {
    "X-Request-Id": {
        "description": "The client's X-Request-Id when it is a UUID, else a new one",
        "schema": {"type": "string", "format": "uuid"},
    },
    "X-RateLimit-Limit": {"description": "Requests a second this client may make", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests this client may make at once now", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Unix time when the bucket has room again", "schema": {"type": "integer"}},
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}},
    "Cache-Control": {"description": "How long the answer may be cached", "schema": {"type": "string"}},
    "Content-Disposition": {"description": "The zip's file name", "schema": {"type": "string"}},
    "X-Bundle-Files": {"description": "How many files the bundle holds", "schema": {"type": "integer"}},
    "X-Bundle-Size": {"description": "The size of its files, unpacked, in bytes", "schema": {"type": "integer"}},
    "X-Bundle-Duration": {"description": "The time taken to build it", "schema": {"type": "string"}},
}
# Every answer other than success a guarded route may give, and what it means.
ERRORS = {
    400: "The request is wrong: its parameters, its body, or the recipe (details.diagnostics)",
    404: "No such thing: a selector or a path not in the recipe, or no such shipped recipe",
    408: "The body did not arrive in time",
    413: "The body is too large",
    429: "This client's rate limit is spent",
    500: "A fault of the server",
    503: "The server is answering as many requests as it may",
    504: "The answer was not ready in time",
}


class Components:
    """The schemas the document refers to: models, and schemas built from the library."""

    def __init__(self) -> None:
        self.models: list[type[BaseModel]] = []
        self.schemas: dict[str, Schema] = {}

    def ref(self, model: type[BaseModel]) -> Schema:
        if model not in self.models:
            self.models.append(model)
        return {"$ref": REF.format(model=model.__name__)}

    def named(self, name: str, schema: Schema) -> Schema:
        self.schemas[name] = schema
        return {"$ref": REF.format(model=name)}

    def all(self) -> dict[str, Schema]:
        _, definitions = models_json_schema([(model, "validation") for model in self.models], ref_template=REF)
        return {**definitions.get("$defs", {}), **self.schemas}


# A client's id for the request, echoed in X-Request-Id and the error envelope (a new one when it is no UUID).
REQUEST_ID: Schema = {"name": "X-Request-Id", "in": "header", "required": False, "schema": {"type": "string", "format": "uuid"}}


def with_request_ids(document: Schema) -> Schema:
    """Every operation of `document` reads X-Request-Id: say so once for all of them."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("parameters", []).append(REQUEST_ID)
    return document


def criteria_schema(vocabulary: Vocabulary) -> Schema:
    properties: dict[str, Schema] = {name: _dimension(vocabulary, name) for name in vocabulary.values}
    properties[NODES] = {"type": "integer", "minimum": 0, "default": 0, "description": "The number of GPU nodes (0: any)"}
    return {
        "type": "object",
        "description": "Criteria: a dimension not given is any",
        "properties": properties,
        "additionalProperties": False,
    }


def _dimension(vocabulary: Vocabulary, name: str) -> Schema:
    return {
        "type": "string",
        "enum": vocabulary.accepted(name),
        "default": UNSET,
        "description": f"{name}; any, or not given: every {name}",
    }


def criteria_parameters(vocabulary: Vocabulary) -> list[Schema]:
    parameters = [query(name, _dimension(vocabulary, name)) for name in vocabulary.values]
    if "accelerator" in vocabulary.values:
        alias = {**_dimension(vocabulary, "accelerator"), "description": "The reference's older name for accelerator"}
        parameters.append(query(ACCELERATOR_ALIAS, alias))
    parameters.append(query(NODES, {"type": "integer", "minimum": 0, "default": 0, "description": "The number of GPU nodes (0: any)"}))
    return parameters


def query(name: str, schema: Schema, *, required: bool = False, repeated: bool = False) -> Schema:
    parameter: Schema = {"name": name, "in": "query", "required": required, "schema": schema}
    if repeated:
        parameter |= {"style": "form", "explode": True}
    return parameter


def body(schema: Schema, *, yaml: bool = True) -> Schema:
    types = JSON_TYPES + (YAML_TYPES[:1] if yaml else ())
    return {"requestBody": {"required": True, "content": {media: {"schema": schema} for media in types}}}


def answers(
    ok: Schema, *, media: str = "application/json", headers: Iterable[str] = (), errors: Sequence[int] = tuple(ERRORS)
) -> dict[int | str, Schema]:
    """The `responses` of a route: 200 with `ok`, and the errors it may answer with, each an envelope."""
    error = {"content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    found: dict[int | str, Schema] = {
        200: {"description": "Success", "content": {media: {"schema": ok}}, "headers": _headers("X-Request-Id", *headers)}
    }
    for status in errors:
        extra = ["Retry-After"] if status in (429, 503) else []
        extra += ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"] if status == 429 else []
        found[status] = {"description": ERRORS[status], **error, "headers": _headers("X-Request-Id", *extra)}
    return found


def _headers(*names: str) -> Schema:
    return {name: HEADERS[name] for name in names}
