"""The reference's recipe API, answered by aicrc: its criteria, its RecipeResult, its hydrated recipe.

Criteria come as query parameters (`?service=eks&accelerator=gb200`, `gpu` for accelerator, `nodes`)
or as a body: a RecipeCriteria for /v1/recipe, `{criteria, selector}` for /v1/query. As the
reference reads them: case and surrounding spaces do not matter, a dimension not given is `any`
(no default applies: the reference has none), `self-managed`, `self` and `vanilla` mean any
service. Unlike the reference, a parameter or a criteria field it does not know is an error (the
reference ignores `?acclerator=h100` and answers for every accelerator), and so is a value no
dimension has, with the compiler's diagnostic and its suggestion.

The answers are the reference's documents: the RecipeResult `aicrc compile --format aicr` writes,
its criteria echoing the request; and for /v1/query the reference's "hydrated" recipe (every
component by name with its merged values), from which a dotted selector picks a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aicrc.api import Compilation, Library, RawCriterion
from aicrc.compiler.emit.recipe_result import AICR_API_VERSION, recipe_result
from aicrc.records import Record
from aicrc.server.envelope import ApiError

CRITERIA_KIND = "RecipeCriteria"
UNSET = "any"
ANY_SERVICE = frozenset({"self-managed", "self", "vanilla"})  # the reference's names for "no managed service"
ACCELERATOR_ALIAS = "gpu"
NODES = "nodes"


class Vocabulary(Record):
    """The library's dimensions: their values in declaration order, and each alias's value."""

    values: Mapping[str, tuple[str, ...]]
    aliases: Mapping[str, Mapping[str, str]]

    @staticmethod
    def of(library: Library) -> Vocabulary:
        dimensions = library.program.dimensions
        return Vocabulary(
            {name: tuple(d.values) for name, d in dimensions.items()},
            {name: {alias: target.target.text for alias, target in d.aliases.items()} for name, d in dimensions.items()},
        )

    def accepted(self, dimension: str) -> list[str]:
        """Every value a request may give for `dimension`, as the OpenAPI document lists them."""
        extra = sorted(ANY_SERVICE) if dimension == "service" else []
        return [*self.values[dimension], *self.aliases[dimension], *extra, UNSET]


class Asked(Record):
    """Criteria as a request gave them: every dimension of the library (`any` when not given), and nodes."""

    values: Mapping[str, str]
    nodes: int = 0
    origin: str = ""  # how diagnostics name where a criterion came from: `query parameter service`, `spec.service`

    def raw(self) -> list[RawCriterion]:
        return [RawCriterion(name, value, where=f"{self.origin}{name}") for name, value in self.values.items()]

    def key(self) -> str:
        return "&".join(f"{name}={value}" for name, value in sorted(self.values.items())) + f"&nodes={self.nodes}"


def from_query(params: Sequence[tuple[str, str]], vocabulary: Vocabulary, extra: Sequence[str] = ()) -> Asked:
    """Criteria from query parameters; `extra` names the route's other parameters (selector)."""
    known = {*vocabulary.values, ACCELERATOR_ALIAS, NODES, *extra}
    given: dict[str, str] = {}
    for name, value in params:
        if name not in known:
            raise ApiError(
                "INVALID_REQUEST",
                "Invalid recipe criteria",
                {"error": f"unknown query parameter {name!r}", "parameters": sorted(known)},
            )
        if name in given:
            raise ApiError("INVALID_REQUEST", "Invalid recipe criteria", {"error": f"query parameter {name!r} is given twice"})
        given[name] = value
    if ACCELERATOR_ALIAS in given:  # the reference's older name; `accelerator` wins when both are given
        alias = given.pop(ACCELERATOR_ALIAS)
        if "accelerator" in vocabulary.values and not given.get("accelerator", "").strip():
            given["accelerator"] = alias
    nodes = _nodes(given.pop(NODES, "0"), "nodes")
    for name in extra:
        given.pop(name, None)
    return _asked(given, nodes, vocabulary, "query parameter ")


def from_body(spec: Any, vocabulary: Vocabulary, where: str) -> Asked:
    """Criteria from a body's mapping of dimension: value (and nodes); `where` names it (spec, criteria)."""
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise _invalid(f"{where}: expected a mapping of dimension: value")
    given: dict[str, str] = {}
    nodes = 0
    for name, value in spec.items():
        if name == NODES:
            nodes = _nodes(value, f"{where}.nodes")
        elif value is None:
            continue
        elif not isinstance(value, str):
            raise _invalid(f"{where}.{name}: expected a string, not {type(value).__name__}")
        else:
            given[str(name)] = value
    return _asked(given, nodes, vocabulary, f"{where}.")


def recipe_criteria(data: Any, vocabulary: Vocabulary) -> Asked:
    """A RecipeCriteria document: kind, apiVersion and spec are required, as the reference's API document says."""
    if not isinstance(data, dict):
        raise _invalid(f"expected a {CRITERIA_KIND} document (kind, apiVersion, spec)")
    for field, expected in (("kind", CRITERIA_KIND), ("apiVersion", AICR_API_VERSION)):
        if data.get(field) != expected:
            raise _invalid(f"{field}: expected {expected!r}, got {data.get(field)!r}")
    if "spec" not in data:
        raise _invalid("spec: required (the criteria: service, accelerator, intent, os, platform, nodes)")
    return from_body(data["spec"], vocabulary, "spec")


def _asked(given: Mapping[str, str], nodes: int, vocabulary: Vocabulary, origin: str) -> Asked:
    values = {name: UNSET for name in vocabulary.values}
    for name, value in given.items():
        text = value.strip().lower() or UNSET
        if name == "service" and text in ANY_SERVICE:
            text = UNSET
        values[name.strip().lower()] = text  # an unknown dimension stays, for the compiler to name
    return Asked(values, nodes, origin)


def _nodes(value: Any, where: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _invalid(f"{where}: expected a number of nodes, 0 or more, not {value!r}")


def _invalid(error: str) -> ApiError:
    return ApiError("INVALID_REQUEST", "Invalid recipe criteria", {"error": error})


def check_allowed(asked: Asked, allowed: Mapping[str, frozenset[str]], vocabulary: Vocabulary) -> None:
    """The reference's allowlists: a dimension with one admits its values and `any` alone."""
    for dimension, values in allowed.items():
        value = asked.values.get(dimension, UNSET)
        value = vocabulary.aliases.get(dimension, {}).get(value, value)
        if value != UNSET and value in vocabulary.values.get(dimension, ()) and value not in values:
            raise ApiError(
                "INVALID_REQUEST",
                f"{dimension} not allowed",
                {"error": f"{dimension} {value!r} is not allowed on this server", "requested": value, "allowed": sorted(values)},
            )


def result(compilation: Compilation, asked: Asked) -> dict[str, Any]:
    """The reference's RecipeResult for a compile, its criteria the request's (`nodes` when not 0)."""
    document = recipe_result(compilation.resolved, compilation.document, compilation.program.dimensions)
    document["criteria"] = dict(asked.values) | ({NODES: asked.nodes} if asked.nodes else {})
    return document


def hydrate(document: Mapping[str, Any], asked: Asked) -> dict[str, Any]:
    """The reference's hydrated recipe: a RecipeResult with each component by name, values merged in."""
    metadata = document["metadata"]
    hydrated: dict[str, Any] = {
        "kind": document["kind"],
        "apiVersion": document["apiVersion"],
        "metadata": {
            "version": metadata["version"],
            "appliedOverlays": metadata["appliedOverlays"] or None,
            "excludedOverlays": None,
            "constraintWarnings": None,
        },
        "deploymentOrder": document["deploymentOrder"] or None,
        "criteria": {**asked.values, NODES: asked.nodes},
    }
    if document["constraints"]:
        hydrated["constraints"] = [{"name": c["name"], "value": c["value"]} for c in document["constraints"]]
    components = {}
    for ref in document["componentRefs"]:
        component = {"name": ref["name"], "type": ref["type"], "source": ref["source"]}
        component |= {field: ref[field] for field in ("namespace", "chart", "version", "dependencyRefs") if ref.get(field)}
        if ref.get("overrides"):
            component["values"] = ref["overrides"]
        components[ref["name"]] = component
    hydrated["components"] = components
    return hydrated


def select(hydrated: Mapping[str, Any], selector: str) -> Any:
    """The value at a dotted selector, as the reference selects: maps only, "" for the whole."""
    selector = selector.removeprefix(".")
    current: Any = hydrated
    if not selector:
        return current
    for part in selector.split("."):
        if not isinstance(current, dict):
            raise _not_found(selector, f"selector {selector!r}: cannot descend into non-map value at {part!r}")
        if part not in current:
            raise _not_found(selector, f"selector {selector!r}: key {part!r} not found, available keys: {', '.join(sorted(current))}")
        current = current[part]
    return current


def _not_found(selector: str, error: str) -> ApiError:
    return ApiError("NOT_FOUND", "Selector path not found", {"selector": selector, "error": error})
