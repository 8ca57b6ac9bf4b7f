"""The ASGI middleware in front of every route: what each request gets before a route sees it.

- an X-Request-Id on every response (the client's when it is a UUID, as the reference keeps it)
  and X-API-Version: v1;
- the request counted and timed (metrics.py), labelled by route;
- per-client rate limiting (429 with Retry-After and X-RateLimit-*), and at most
  `max_in_flight` requests answered at once (503 with Retry-After): probes and /metrics are exempt,
  so a busy server still reports itself alive;
- the body read here, before any route: refused (413) when Content-Length or what arrives passes
  `max_body_bytes`, without reading the rest, and when it takes longer than `body_timeout` (408);
  either way the connection is closed after the answer;
- a GET answered before with `Cache-Control: public` (a recipe, a query: what clients may cache,
  the server may too) answered again from here, without the routes: the same path and query give
  the same answer for as long as the process keeps its library;
- anything a route did not expect answered as a 500 envelope, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aicrc.records import Record
from aicrc.server import envelope, metrics
from aicrc.server.envelope import ApiError
from aicrc.server.ratelimit import RateLimiter
from aicrc.server.settings import Settings

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

# Probes and metrics: never rate limited or refused for load (the reference exempts them too).
EXEMPT = frozenset({"/health", "/ready", "/metrics"})
CLOSE = (b"connection", b"close")
ANSWERED = 4096  # GET answers kept (their bodies are the memo's own bytes: the cost is the keys)

Header = tuple[bytes, bytes]

log = logging.getLogger("aicrc.server")


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings, routes: frozenset[str]) -> None:
        self.app = app
        self.settings = settings
        self.routes = routes
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_burst) if settings.rate_limit > 0 else None
        self.in_flight = 0
        self.answered: OrderedDict[tuple[str, bytes], _Stored] = OrderedDict()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: the library is loaded there
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"")
        request_id = envelope.new_request_id(given.decode("latin-1"))
        scope.setdefault("state", {})["request_id"] = request_id
        route = scope["path"] if scope["path"] in self.routes else "other"
        answer = _Answer(send, [(b"x-request-id", request_id.encode()), (b"x-api-version", b"v1")])
        try:
            await self._guarded(scope, receive, answer, request_id)
        except Exception:
            log.exception("request %s %s %s failed", request_id, scope["method"], scope["path"])
            if not answer.started:
                await answer.error(ApiError("INTERNAL", "internal server error"), request_id)
        finally:
            metrics.REQUESTS.labels(scope["method"], route, str(answer.status)).inc()
            metrics.LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)

    async def _guarded(self, scope: MutableMapping[str, Any], receive: Receive, answer: _Answer, request_id: str) -> None:
        if scope["path"] in EXEMPT:
            await self.app(scope, receive, answer)
            return
        if self.limiter is not None:
            client = scope["client"][0] if scope.get("client") else "unknown"
            verdict = self.limiter.take(client)
            limits = {
                "X-RateLimit-Limit": str(int(self.settings.rate_limit)),
                "X-RateLimit-Remaining": str(verdict.remaining),
                "X-RateLimit-Reset": str(int(time.time()) + max(1, verdict.retry_after)),
            }
            if not verdict.allowed:
                metrics.RATE_LIMITED.inc()
                details = {"limit": self.settings.rate_limit, "burst": self.settings.rate_burst}
                headers = {"Retry-After": str(verdict.retry_after), **limits}
                await answer.error(ApiError("RATE_LIMIT_EXCEEDED", "rate limit exceeded", details, headers), request_id)
                return
            answer.extra += [(name.lower().encode(), value.encode()) for name, value in limits.items()]
        if self.in_flight >= self.settings.max_in_flight:
            metrics.OVERLOADED.inc()
            busy = ApiError(
                "SERVICE_UNAVAILABLE",
                "the server is answering as many requests as it may; try again",
                {"maxInFlight": self.settings.max_in_flight},
                {"Retry-After": "1"},
            )
            await answer.error(busy, request_id)
            return
        if scope["method"] == "GET" and await self._answered_before(scope, answer):
            return
        self.in_flight += 1
        try:
            try:
                body = await self._read_body(scope, receive)
            except ApiError as refused:  # the rest of the body is never read
                await answer.error(refused, request_id, close=True)
                return
            except _DisconnectedError:
                return
            await self.app(scope, _replay(body, receive), answer)
        finally:
            self.in_flight -= 1
        if answer.kept is not None and answer.kept.status == 200 and (scope["method"], answer.kept.public) == ("GET", True):
            self.answered[scope["path"], scope["query_string"]] = answer.kept
            if len(self.answered) > ANSWERED:
                self.answered.popitem(last=False)

    async def _answered_before(self, scope: MutableMapping[str, Any], answer: _Answer) -> bool:
        stored = self.answered.get((scope["path"], scope["query_string"]))
        if stored is None:
            answer.keep = True  # the routes answer: kept if they say clients may cache it
            return False
        self.answered.move_to_end((scope["path"], scope["query_string"]))
        metrics.CACHE_HITS.inc()
        await answer({"type": "http.response.start", "status": stored.status, "headers": list(stored.headers)})
        await answer({"type": "http.response.body", "body": stored.body, "more_body": False})
        return True

    async def _read_body(self, scope: MutableMapping[str, Any], receive: Receive) -> bytes:
        limit = self.settings.max_body_bytes
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.settings.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _DisconnectedError
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(limit)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            seconds = self.settings.body_timeout
            raise ApiError("REQUEST_TIMEOUT", f"the request body did not arrive within {seconds:g} s", {"timeout": seconds}) from None


class _DisconnectedError(Exception):
    """The client went away before its body arrived: there is no one to answer."""


def _too_large(limit: int) -> ApiError:
    return ApiError("PAYLOAD_TOO_LARGE", f"the request body is larger than {limit} bytes", {"limit": limit})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body read already, then waits for the client as the original does."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class _Stored(Record):
    status: int
    headers: tuple[Header, ...]
    body: bytes
    public: bool  # Cache-Control: public, as the route said


class _Answer:
    """The `send` the routes get: it adds the headers every response carries, remembers the status,
    and keeps a whole answer sent in one piece when asked to (`keep`)."""

    def __init__(self, send: Send, extra: list[Header]) -> None:
        self.send = send
        self.extra = extra
        self.started = False
        self.status = 500
        self.keep = False
        self.kept: _Stored | None = None
        self._head: tuple[Header, ...] = ()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            self._head = tuple(message.get("headers", []))
            message = {**message, "headers": [*self._head, *self.extra]}
        elif self.keep and message.get("more_body", False):
            self.keep = False  # sent in pieces: not an answer to keep whole
        elif self.keep:
            public = any(name == b"cache-control" and value.startswith(b"public") for name, value in self._head)
            self.kept = _Stored(self.status, self._head, message.get("body", b""), public)
        await self.send(message)

    async def error(self, error: ApiError, request_id: str, *, close: bool = False) -> None:
        payload = envelope.body(error, request_id)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        headers += [(name.lower().encode(), value.encode()) for name, value in error.headers.items()]
        if close:
            headers.append(CLOSE)
        await self({"type": "http.response.start", "status": error.status, "headers": headers})
        await self({"type": "http.response.body", "body": payload, "more_body": False})
