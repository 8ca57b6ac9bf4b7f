"""The shapes of the API's answers, for its OpenAPI document (the routes write their JSON directly,
memoized as bytes; tests/test_server_api.py checks the answers against these schemas).

The RecipeResult is the reference's document (pkg/recipe RecipeResult, as `aicrc compile --format
aicr` writes it); the error is the reference's envelope.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aicrc.compiler.emit.model import CompiledRecipe


class _Open(BaseModel):
    """A document a client may extend: fields the API does not know are kept, as the reference keeps them."""

    model_config = ConfigDict(extra="allow")


class Error(BaseModel):
    code: str = Field(description="INVALID_REQUEST, NOT_FOUND, METHOD_NOT_ALLOWED, RATE_LIMIT_EXCEEDED, TIMEOUT, ...")
    message: str
    details: dict[str, Any] | None = Field(None, description="`diagnostics`: the compiler's, with codes and locations; `error`: the first")
    requestId: str = Field(json_schema_extra={"format": "uuid"})  # noqa: N815 - the reference's field names
    timestamp: str = Field(json_schema_extra={"format": "date-time"})
    retryable: bool


class Location(BaseModel):
    file: str
    line: int
    column: int
    endLine: int  # noqa: N815
    endColumn: int  # noqa: N815


class Label(BaseModel):
    message: str
    location: Location | None


class Diagnostic(BaseModel):
    severity: Literal["error", "warning"]
    code: str
    message: str
    location: Location | None
    labels: list[Label]
    notes: list[str]
    help: str | None


class ComponentRef(_Open):
    name: str
    namespace: str | None = None
    chart: str | None = None
    type: str | None = None
    source: str | None = None
    version: str | None = None
    overrides: dict[str, Any] | None = Field(None, description="The component's Helm values, merged")
    dependencyRefs: list[str] | None = None  # noqa: N815
    manifestFiles: list[str] | None = None  # noqa: N815


class RecipeConstraint(_Open):
    name: str
    value: str


class RecipeMetadata(_Open):
    version: str | None = Field(None, description="What compiled it: aicrc-VERSION")
    appliedOverlays: list[str] | None = Field(None, description="The layers applied, lowest precedence first")  # noqa: N815


class RecipeResult(_Open):
    kind: Literal["RecipeResult"]
    apiVersion: str  # noqa: N815
    metadata: RecipeMetadata | None = None
    criteria: dict[str, str | int] | None = Field(None, description="Every dimension (any when not given), and nodes when not 0")
    constraints: list[RecipeConstraint] | None = None
    componentRefs: list[ComponentRef] = Field(description="Every component, by name")  # noqa: N815
    deploymentOrder: list[str] | None = None  # noqa: N815
    validation: dict[str, Any] | None = None


class CompileResponse(BaseModel):
    recipe: CompiledRecipe | RecipeResult
    warnings: list[Diagnostic]


class Step(BaseModel):
    value: Any
    path: str
    layer: str
    kind: str
    feature: str | None
    location: str | None


class Explanation(BaseModel):
    path: str
    value: Any
    chain: list[Step] = Field(description="Every assignment of the value, the one that won first")


class ExplainResponse(BaseModel):
    path: str
    explanations: list[Explanation]


class DiffResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    equal: bool
    componentsAdded: list[str]  # noqa: N815
    componentsRemoved: list[str]  # noqa: N815
    components: list[dict[str, Any]]


class ValidateResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    phase: str
    results: list[dict[str, Any]] = Field(description="One per constraint: name, operator, expected, actual, status, message")


class MatrixRow(BaseModel):
    subject: str = Field(description="The combination's values, or a shipped recipe's name")
    ok: bool
    components: int | None = Field(description="How many components it installs; null when it does not compile")
    note: str = Field(description="The first error, or the warnings")


class MatrixResponse(BaseModel):
    dimensions: list[str]
    combinations: list[MatrixRow]
    recipes: list[MatrixRow]


class Root(BaseModel):
    service: str
    version: str
    routes: list[str]


class Health(BaseModel):
    status: Literal["healthy"]
    timestamp: str = Field(json_schema_extra={"format": "date-time"})
    reason: str | None = None


class Ready(BaseModel):
    status: Literal["ready", "not_ready"]
    timestamp: str = Field(json_schema_extra={"format": "date-time"})
    reason: str | None = None
