"""The routes, and the application uvicorn runs (`create_app`, called once in each worker process).

Every answer is computed on the compile thread (service.py) under a memo key made of what the
request asked: the normalized criteria for a GET, the exact body (and its media type and query)
for a POST, so a repeated request costs a digest and a lookup. A POST body is parsed on the
compile thread too: a large YAML body never stalls the event loop.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException

from aicrc import diagnostics as diag
from aicrc.api import Compilation, Library, load_library
from aicrc.bundle.deployers import NAMES as DEPLOYERS
from aicrc.compiler.emit.recipe_result import AICR_API_VERSION
from aicrc.server import bundling, envelope, metrics, reference
from aicrc.server.bodies import media_kind, parse
from aicrc.server.envelope import ApiError, from_diagnostics
from aicrc.server.guard import Guard
from aicrc.server.inputs import CompileRequest, DiffRequest, ExplainRequest, RecipeInput, ValidateRequest, compile_input
from aicrc.server.models import (
    CompileResponse,
    DiffResponse,
    Error,
    ExplainResponse,
    Health,
    MatrixResponse,
    Ready,
    RecipeResult,
    Root,
    ValidateResponse,
)
from aicrc.server.openapi import Components, answers, body, criteria_parameters, criteria_schema, query, with_request_ids
from aicrc.server.reference import Asked, Vocabulary
from aicrc.server.service import Reply, Service, digest
from aicrc.server.settings import Settings, canonical_allowlists, check_allowlists, from_env
from aicrc.version import __version__

CACHE_CONTROL = ("Cache-Control", "public, max-age=600")  # the reference's: an answer holds as long as the library
DESCRIPTION = """\
aicrc's REST API: the reference system's recipe API (`/v1/recipe`, `/v1/query`, `/v1/bundle`),
answered from aicrc's library, and aicrc's own (`/v1/compile`, `/v1/explain`, `/v1/diff`,
`/v1/validate`, `/v1/matrix`). Every error is one envelope: `{code, message, details, requestId,
timestamp, retryable}`; a compiler error's diagnostics, with their codes and locations, are in
`details.diagnostics`."""


def create_app(settings: Settings | None = None, library: Library | None = None) -> Guard:
    """The application: the library loaded once, the limits of `settings` (default: the environment)."""
    settings = settings or from_env()
    library = library or load_library()
    vocabulary = Vocabulary.of(library)
    check_allowlists(settings, vocabulary.values, vocabulary.aliases)
    routes = _Routes(
        library, vocabulary, canonical_allowlists(settings, vocabulary.aliases), Service(settings.compile_timeout, settings.memo_bytes)
    )
    api = routes.build()
    return Guard(api, settings, frozenset(routes.paths))


def _json(value: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(), "application/json", headers)


def _respond(reply: Reply) -> Response:
    return Response(reply.body, reply.status, dict(reply.headers), media_type=reply.media_type)


class _Routes:
    def __init__(self, library: Library, vocabulary: Vocabulary, allowed: Mapping[str, frozenset[str]], service: Service) -> None:
        self.library = library
        self.vocabulary = vocabulary
        self.allowed = allowed
        self.service = service
        self.paths: list[str] = []
        self.ready = False

    def build(self) -> FastAPI:
        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            # The library and the application live as long as the process: moved out of the garbage
            # collector's sight, a full collection no longer walks them (20 ms a time, a stall in p99).
            gc.collect()
            gc.freeze()
            self.ready = True
            yield
            self.ready = False
            self.service.close()

        api = FastAPI(title="aicrc", version=__version__, description=DESCRIPTION, docs_url=None, redoc_url=None, lifespan=lifespan)
        parts = Components()
        parts.ref(Error)
        criteria = parts.named("Criteria", criteria_schema(self.vocabulary))
        self._reference_routes(api, parts, criteria)
        self._own_routes(api, parts)
        self._service_routes(api, parts)
        self._errors(api)

        def openapi() -> dict[str, Any]:
            if api.openapi_schema is None:
                document = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
                schemas = parts.all()
                # a RecipeResult's criteria are the library's dimensions, which only the library can list
                schemas["RecipeResult"]["properties"]["criteria"] = criteria
                document.setdefault("components", {})["schemas"] = schemas
                api.openapi_schema = with_request_ids(document)
            return api.openapi_schema

        api.openapi = openapi  # type: ignore[method-assign]
        self.paths += ["/openapi.json"]
        return api

    # ---- the reference's routes ----------------------------------------------------------------

    def _reference_routes(self, api: FastAPI, parts: Components, criteria: dict[str, Any]) -> None:
        recipe_answers = answers(
            parts.ref(RecipeResult), headers=("Cache-Control", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
        )
        query_answers = answers({"description": "The value at the selector: a scalar, an object or a list"}, headers=("Cache-Control",))
        recipe_body = parts.named(
            "RecipeCriteria",
            {
                "type": "object",
                "required": ["kind", "apiVersion", "spec"],
                "properties": {
                    "kind": {"const": reference.CRITERIA_KIND},
                    "apiVersion": {"const": AICR_API_VERSION},
                    "metadata": {"type": "object", "properties": {"name": {"type": "string"}}},
                    "spec": criteria,
                },
            },
        )
        query_body = parts.named(
            "QueryRequest",
            {
                "type": "object",
                "required": ["criteria", "selector"],
                "properties": {"criteria": criteria, "selector": {"type": "string", "description": "A dotted path; empty for everything"}},
            },
        )
        selector = query(
            "selector", {"type": "string", "description": "A dotted path in the hydrated recipe; empty for everything"}, required=True
        )

        @api.get(
            "/v1/recipe", tags=["Recipes"], responses=recipe_answers, openapi_extra={"parameters": criteria_parameters(self.vocabulary)}
        )
        async def get_recipe(request: Request) -> Response:
            """The recipe for the criteria: the reference's RecipeResult, every value merged into `overrides`."""
            return await self._recipe(reference.from_query(request.query_params.multi_items(), self.vocabulary))

        @api.post("/v1/recipe", tags=["Recipes"], responses=recipe_answers, openapi_extra=body(recipe_body))
        async def post_recipe(request: Request) -> Response:
            """The recipe for a RecipeCriteria document (JSON or YAML)."""
            return await self._posted(request, "recipe", lambda data: self._recipe_reply(reference.recipe_criteria(data, self.vocabulary)))

        @api.get(
            "/v1/query",
            tags=["Recipes"],
            responses=query_answers,
            openapi_extra={"parameters": [*criteria_parameters(self.vocabulary), selector]},
        )
        async def get_query(request: Request) -> Response:
            """One value of the hydrated recipe, as the reference's query answers."""
            params = request.query_params.multi_items()
            asked = reference.from_query(params, self.vocabulary, extra=("selector",))
            chosen = dict(params).get("selector")
            if chosen is None:
                raise ApiError("INVALID_REQUEST", "Invalid query criteria", {"error": "selector is required (empty for the whole recipe)"})
            reference.check_allowed(asked, self.allowed, self.vocabulary)
            key = digest("query", asked.key(), chosen)
            return _respond(await self.service.answer(key, lambda: self._query_reply(asked, chosen)))

        @api.post("/v1/query", tags=["Recipes"], responses=query_answers, openapi_extra=body(query_body))
        async def post_query(request: Request) -> Response:
            """One value of the hydrated recipe, for criteria and a selector in the body."""
            return await self._posted(request, "query", self._query_body)

        bundle_parameters = [
            query("deployer", {"type": "string", "enum": list(DEPLOYERS), "default": "helm"}),
            query("repo", {"type": "string", "description": "The Git repository argocd and flux read the bundle from"}),
            query("revision", {"type": "string", "description": "Its branch, tag or commit (default HEAD)"}),
            query("set", {"type": "array", "items": {"type": "string"}}, repeated=True),
            *(
                query(name, {"type": "array", "items": {"type": "string"}}, repeated=True)
                for name in (*bundling.SELECTORS, *bundling.TOLERATIONS)
            ),
            query("nodes", {"type": "integer", "minimum": 0, "default": 0}),
            query("bundlers", {"type": "string", "description": "Accepted and ignored, as the reference's server ignores it"}),
            *(
                query(name, {"type": "string", "description": "The reference's; aicrc's bundles do not set it: refused (400)"})
                for name in bundling.REFUSED
            ),
        ]
        bundle_answers = answers(
            {"type": "string", "format": "binary"},
            media="application/zip",
            headers=("Content-Disposition", "X-Bundle-Files", "X-Bundle-Size", "X-Bundle-Duration"),
        )

        @api.post(
            "/v1/bundle",
            tags=["Bundles"],
            responses=bundle_answers,
            openapi_extra={"parameters": bundle_parameters, **body(parts.ref(RecipeResult), yaml=False)},
        )
        async def post_bundle(request: Request) -> Response:
            """The bundle of a RecipeResult (as GET /v1/recipe answers it), as a zip."""
            chosen = bundling.options(request.query_params.multi_items())
            raw = await request.body()
            kind = media_kind(request.headers.get("content-type"), yaml_too=False)
            key = digest("bundle", str(request.query_params), kind, raw)
            work = lambda: bundling.bundle(self.library, self.vocabulary, self.allowed, parse(raw, kind), chosen)  # noqa: E731
            return _respond(await self.service.answer(key, work))

        self.paths += ["/v1/recipe", "/v1/query", "/v1/bundle"]

    async def _recipe(self, asked: Asked) -> Response:
        return _respond(await self.service.answer(digest("recipe", asked.key()), lambda: self._recipe_reply(asked)))

    def _recipe_reply(self, asked: Asked) -> Reply:
        reference.check_allowed(asked, self.allowed, self.vocabulary)
        return _json(reference.result(self._criteria(asked), asked), headers=(CACHE_CONTROL,))

    def _query_body(self, data: Any) -> Reply:
        if not isinstance(data, dict):
            raise ApiError("INVALID_REQUEST", "Invalid query request body", {"error": "expected an object with criteria and selector"})
        if data.get("criteria") is None:
            raise ApiError("INVALID_REQUEST", "Query criteria cannot be empty")
        if not isinstance(data.get("selector"), str):
            raise ApiError(
                "INVALID_REQUEST", "Invalid query request body", {"error": "selector: a string is required (empty for everything)"}
            )
        asked = reference.from_body(data["criteria"], self.vocabulary, "criteria")
        reference.check_allowed(asked, self.allowed, self.vocabulary)
        return self._query_reply(asked, data["selector"])

    def _query_reply(self, asked: Asked, selector: str) -> Reply:
        hydrated = reference.hydrate(reference.result(self._criteria(asked), asked), asked)
        return _json(reference.select(hydrated, selector), headers=(CACHE_CONTROL,))

    def _criteria(self, asked: Asked) -> Compilation:
        try:
            return self.library.compile(asked.raw())
        except diag.AicrcError as failure:
            raise from_diagnostics(failure, "Invalid recipe criteria") from None

    async def _posted(self, request: Request, operation: str, work: Callable[[Any], Reply]) -> Response:
        """A POST whose answer depends on its body alone: parsed and answered on the compile thread."""
        if request.query_params:
            raise ApiError("INVALID_REQUEST", "unexpected query parameters", {"error": f"{request.url.path} takes its input in the body"})
        raw = await request.body()
        kind = media_kind(request.headers.get("content-type"))
        return _respond(await self.service.answer(digest(operation, kind, raw), lambda: work(parse(raw, kind))))

    # ---- aicrc's own routes ----------------------------------------------------------------------

    def _own_routes(self, api: FastAPI, parts: Components) -> None:
        @api.post(
            "/v1/compile", tags=["aicrc"], responses=answers(parts.ref(CompileResponse)), openapi_extra=body(parts.ref(CompileRequest))
        )
        async def compile_recipe(request: Request) -> Response:
            """Compile a recipe (its source, a shipped name, or criteria): aicrc's CompiledRecipe or the reference's RecipeResult."""
            return await self._posted(request, "compile", lambda data: self._compile(_model(CompileRequest, data)))

        @api.post(
            "/v1/explain", tags=["aicrc"], responses=answers(parts.ref(ExplainResponse)), openapi_extra=body(parts.ref(ExplainRequest))
        )
        async def explain(request: Request) -> Response:
            """Where each value under a path came from, and what it overrode."""
            return await self._posted(request, "explain", lambda data: self._explain(_model(ExplainRequest, data)))

        @api.post("/v1/diff", tags=["aicrc"], responses=answers(parts.ref(DiffResponse)), openapi_extra=body(parts.ref(DiffRequest)))
        async def diff(request: Request) -> Response:
            """Two recipes compared: components swapped and values changed."""
            return await self._posted(request, "diff", lambda data: self._diff(_model(DiffRequest, data)))

        @api.post(
            "/v1/validate", tags=["aicrc"], responses=answers(parts.ref(ValidateResponse)), openapi_extra=body(parts.ref(ValidateRequest))
        )
        async def validate(request: Request) -> Response:
            """A cluster's snapshot checked against the recipe's constraints (the readiness phase)."""
            return await self._posted(request, "validate", lambda data: self._validate(_model(ValidateRequest, data)))

        @api.get("/v1/matrix", tags=["aicrc"], responses=answers(parts.ref(MatrixResponse)))
        async def matrix(request: Request) -> Response:
            """Every combination of dimension values, and every shipped recipe: what compiles."""
            if request.query_params:
                raise ApiError("INVALID_REQUEST", "unexpected query parameters", {"error": "/v1/matrix takes none"})
            return _respond(await self.service.answer(digest("matrix"), self._matrix))

        self.paths += ["/v1/compile", "/v1/explain", "/v1/diff", "/v1/validate", "/v1/matrix"]

    def _compile(self, given: CompileRequest) -> Reply:
        compilation = compile_input(self.library, given, self.allowed)
        if given.format == "aicr":
            from aicrc.compiler.emit.recipe_result import recipe_result

            document = recipe_result(compilation.resolved, compilation.document, compilation.program.dimensions)
        else:
            document = compilation.document
        return _json({"recipe": document, "warnings": [w.to_dict() for w in compilation.warnings]})

    def _explain(self, given: ExplainRequest) -> Reply:
        from aicrc.tools.explain import to_data

        compilation = compile_input(self.library, given, self.allowed)
        try:
            stories = compilation.explain(given.path)
        except diag.AicrcError as failure:
            raise from_diagnostics(failure, f"cannot explain {given.path}") from None
        return _json({"path": given.path, "explanations": to_data(stories)})

    def _diff(self, given: DiffRequest) -> Reply:
        from aicrc.tools.diff import diff, to_data

        difference = diff(compile_input(self.library, given.a, self.allowed), compile_input(self.library, given.b, self.allowed))
        return _json({"equal": difference.equal, **to_data(difference)})

    def _validate(self, given: ValidateRequest) -> Reply:
        from aicrc.cluster.read import parse_snapshot
        from aicrc.cluster.readiness import check_readiness
        from aicrc.cluster.report import Report, to_data

        text = given.snapshot if isinstance(given.snapshot, str) else json.dumps(given.snapshot)
        try:
            snapshot = parse_snapshot(text, "snapshot")
        except diag.AicrcError as failure:
            raise from_diagnostics(failure, "the snapshot cannot be read") from None
        compilation = compile_input(self.library, given, self.allowed)
        recipe = compilation.recipe
        phase = check_readiness(recipe, snapshot, "snapshot")
        node = snapshot.metadata.get("source-node", "")
        return _json(to_data(Report(recipe.metadata.name, dict(recipe.metadata.criteria), (phase,), snapshot="snapshot", source_node=node)))

    def _matrix(self) -> Reply:
        from pathlib import Path

        from aicrc.resources import recipes_dir
        from aicrc.tools.matrix import matrix, to_data

        shipped = sorted(recipes_dir().glob("*.aicr"))
        dimensions, combinations, files = matrix(self.library, shipped)
        for row in files:
            row.subject = Path(row.subject).stem  # the recipe's name, not where the server keeps it
        return _json(to_data(dimensions, combinations, files))

    # ---- the service's own routes ----------------------------------------------------------------

    def _service_routes(self, api: FastAPI, parts: Components) -> None:
        @api.get("/", tags=["Health"], responses=answers(parts.ref(Root), errors=(429, 500, 503)))
        async def root() -> Response:
            """The service, its version, and its routes."""
            return _respond(_json({"service": "aicrc", "version": __version__, "routes": [p for p in self.paths if p.startswith("/v1/")]}))

        @api.get("/health", tags=["Health"], responses=answers(parts.ref(Health), errors=(500,)))
        async def health() -> Response:
            """Alive: the process answers."""
            return _respond(_json({"status": "healthy", "timestamp": envelope.timestamp()}))

        ready_answers = answers(parts.ref(Ready), errors=(500,))
        ready_answers[503] = {
            "description": "Not ready (starting, or shutting down)",
            "content": {"application/json": {"schema": parts.ref(Ready)}},
        }

        @api.get("/ready", tags=["Health"], responses=ready_answers)
        async def ready() -> Response:
            """Ready: the library is loaded and the process is not shutting down."""
            if not self.ready:
                return _respond(_json({"status": "not_ready", "timestamp": envelope.timestamp(), "reason": "starting or stopping"}, 503))
            return _respond(_json({"status": "ready", "timestamp": envelope.timestamp()}))

        @api.get("/metrics", tags=["Health"], responses=answers({"type": "string"}, media="text/plain", errors=(500,)))
        async def prometheus() -> Response:
            """Prometheus metrics: requests, their latency, compiles, memo hits, refusals."""
            payload, content_type = metrics.exposition()
            return Response(payload, 200, media_type=content_type)

        self.paths += ["/", "/health", "/ready", "/metrics"]

    def _errors(self, api: FastAPI) -> None:
        async def refused(request: Request, error: Exception) -> Response:
            assert isinstance(error, ApiError)
            return _envelope(request, error)

        async def not_routed(request: Request, error: Exception) -> Response:
            assert isinstance(error, StarletteHTTPException)
            if error.status_code == 405:
                methods = sorted({m for r in api.routes if getattr(r, "path", None) == request.url.path for m in getattr(r, "methods", ())})
                problem = ApiError("METHOD_NOT_ALLOWED", "Method not allowed", {"method": request.method, "allowed": methods})
                problem.headers["Allow"] = ", ".join(methods)
            elif error.status_code == 404:
                problem = ApiError("NOT_FOUND", f"no route {request.url.path}", {"routes": self.paths})
            else:
                problem = ApiError("INVALID_REQUEST", str(error.detail))
            return _envelope(request, problem)

        async def failed(request: Request, error: Exception) -> Response:
            return _envelope(request, ApiError("INTERNAL", "internal server error"))

        api.add_exception_handler(ApiError, refused)
        api.add_exception_handler(StarletteHTTPException, not_routed)
        api.add_exception_handler(Exception, failed)


def _envelope(request: Request, error: ApiError) -> Response:
    request_id = getattr(request.state, "request_id", None) or envelope.new_request_id(None)
    return Response(envelope.body(error, request_id), error.status, error.headers, media_type="application/json")


def _model(model: type[RecipeInput] | type[DiffRequest], data: Any) -> Any:
    """A request body as aicrc's model, or a 400 listing what is wrong with it."""
    import pydantic

    try:
        return model.model_validate(data, strict=True)
    except pydantic.ValidationError as failure:
        problems = [
            {"location": ".".join(str(part) for part in error["loc"]) or "(body)", "error": error["msg"]}
            for error in failure.errors(include_url=False)
        ]
        first = problems[0]
        raise ApiError(
            "INVALID_REQUEST", "invalid request body", {"error": f"{first['location']}: {first['error']}", "problems": problems}
        ) from None
