"""uvicorn's HTTP/1.1 protocol (h11), with two limits it lacks.

uvicorn closes a connection that idles after a response (`timeout_keep_alive`), but not one that
never finishes its request's headers: a client sending a byte every few seconds (slowloris) would
hold its connection, and a worker's file descriptors, for as long as it liked. Here a connection
must deliver a request's headers within `header_timeout` of opening, and of each response it
got; one that does not is closed.

A request h11 cannot read (headers over its 16 KiB, a malformed request line) is answered with
the error envelope, as every other refusal is, rather than uvicorn's plain text; then closed.

And a process holds at most `max_connections`: one more is closed as soon as it opens, before it
costs anything more than the accept.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from aicrc.server import envelope
from aicrc.server.envelope import ApiError
from aicrc.server.settings import Settings, from_env

log = logging.getLogger("aicrc.server")


@functools.cache
def _settings() -> Settings:
    return from_env()  # the same environment every worker reads (checked once by `aicrc serve`)


class GuardedH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = _settings()
        self.header_timeout = settings.header_timeout
        self.max_connections = settings.max_connections
        self.header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("closing a connection: %d open, the most this process holds", self.max_connections)
            transport.close()
            return
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a request's headers arrived
            self._stop_waiting()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._await_headers()  # the next request on this connection: the same time to send it

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        problem = ApiError("INVALID_REQUEST", msg.rstrip("."), {"error": "the request cannot be read as HTTP/1.1"})
        request_id = envelope.new_request_id(None)
        payload = envelope.body(problem, request_id)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"x-request-id", request_id.encode()),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=payload), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def _await_headers(self) -> None:
        self._stop_waiting()
        self.header_timer = self.loop.call_later(self.header_timeout, self._too_slow)

    def _stop_waiting(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _too_slow(self) -> None:
        self.header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
            log.info("closing the connection of %s: no request headers within %g s", client, self.header_timeout)
            self.transport.close()
