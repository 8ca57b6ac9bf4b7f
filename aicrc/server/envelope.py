"""The one error shape every route answers with, the reference's:

    {"code": "INVALID_REQUEST", "message": "...", "details": {...}, "requestId": "<uuid>",
     "timestamp": "2026-01-15T10:30:00.123456Z", "retryable": false}

`code` is the reference's machine-readable code; a compiler error's diagnostics (E codes, with the
file, line and column) are in `details.diagnostics`, and `details.error` says the first one in a
line, where the reference puts its own error text.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from aicrc import diagnostics as diag

# code -> HTTP status; the reference's codes, and two of aicrc's own for limits the reference's
# server enforces by closing the connection.
STATUS = {
    "INVALID_REQUEST": 400,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "REQUEST_TIMEOUT": 408,
    "PAYLOAD_TOO_LARGE": 413,
    "RATE_LIMIT_EXCEEDED": 429,
    "INTERNAL": 500,
    "SERVICE_UNAVAILABLE": 503,
    "TIMEOUT": 504,
}
# Worth trying again unchanged: a limit of the moment, or a fault of the server.
RETRYABLE = frozenset({"REQUEST_TIMEOUT", "RATE_LIMIT_EXCEEDED", "INTERNAL", "SERVICE_UNAVAILABLE", "TIMEOUT"})
# A diagnostic that means "there is no such thing" rather than "the input is wrong".
NOT_FOUND_CODES = frozenset({"E0602"})


class ApiError(Exception):
    """An answer other than success; immutable, so a memoized one can be raised again."""

    def __init__(self, code: str, message: str, details: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = dict(details) if details else None
        self.headers = dict(headers or {})

    @property
    def status(self) -> int:
        return STATUS[self.code]


def from_diagnostics(failure: diag.AicrcError, message: str) -> ApiError:
    """A compiler error as a 400 (404 when it says a path does not exist), every diagnostic kept."""
    found = failure.diagnostics
    code = "NOT_FOUND" if found and all(d.code in NOT_FOUND_CODES for d in found) else "INVALID_REQUEST"
    return ApiError(code, message, diagnostic_details(found))


def diagnostic_details(diagnostics: Sequence[diag.Diagnostic]) -> dict[str, Any]:
    shown = diagnostics[: diag.MAX_RENDERED]
    details: dict[str, Any] = {"error": _one_line(shown[0]) if shown else "", "diagnostics": [d.to_dict() for d in shown]}
    if len(diagnostics) > len(shown):
        details["more"] = len(diagnostics) - len(shown)
    return details


def _one_line(diagnostic: diag.Diagnostic) -> str:
    where = f"{diagnostic.span.file}:{diagnostic.span.line}:{diagnostic.span.col}: " if diagnostic.span else ""
    return f"{where}{diagnostic.code}: {diagnostic.message}"


def new_request_id(given: str | None) -> str:
    """The client's X-Request-Id when it is a UUID (as the reference keeps it), else a new one."""
    if given:
        try:
            return str(uuid.UUID(given))
        except ValueError:
            pass
    return str(uuid.uuid4())


def timestamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def body(error: ApiError, request_id: str) -> bytes:
    document: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:  # left out when empty, as the reference leaves it out
        document["details"] = error.details
    document.update(requestId=request_id, timestamp=timestamp(), retryable=error.code in RETRYABLE)
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
