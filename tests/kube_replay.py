"""A local HTTP server that answers the Kubernetes API from recorded responses, for the real
`kubernetes` client to talk to (no API server can run here).

    with Replay({("GET", "/api/v1/nodes"): Answer(body=node_list)}) as replay:
        kube = connect(Target(kubeconfig=str(replay.kubeconfig(tmp_path))))

- A GET of a route answers its recorded `Answer`: a body and status, after `delay` seconds, or by
  closing the connection without a word (`close=True`).
- Writes keep state as an API server does: POST to a collection creates `collection/NAME`, PATCH
  (server-side apply) creates or merges the object at its path, DELETE removes it; a later GET of
  that path returns what was written. Every request is recorded in `requests`.
- A path nobody recorded or wrote is a 404 `Status`, as the API server answers it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from aicrc.records import Record


class Answer(Record):
    body: object = None
    status: int = 200
    delay: float = 0.0
    close: bool = False  # close the connection without answering


class Request(Record):
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: object


def status_object(code: int, reason: str, message: str) -> dict[str, Any]:
    """A Kubernetes `Status`, as the API server writes errors."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}


def forbidden(verb: str, resource: str, group: str = "", namespace: str = "") -> Answer:
    """An RBAC denial, worded as the API server words it."""
    scope = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    user = "system:serviceaccount:default:reader"
    message = f'{resource} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API group "{group}"{scope}'
    return Answer(body=status_object(403, "Forbidden", message), status=403)


class Replay:
    def __init__(self, routes: Mapping[tuple[str, str], Answer] | None = None) -> None:
        self.routes: dict[tuple[str, str], Answer] = dict(routes or {})
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def kubeconfig(self, folder: Path, *, name: str = "kubeconfig") -> Path:
        """A kubeconfig file whose one context points at this server."""
        path = folder / name
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "replay", "cluster": {"server": self.url}}],
            "users": [{"name": "reader", "user": {"token": "replay-token"}}],
            "contexts": [{"name": "replay", "context": {"cluster": "replay", "user": "reader"}}],
            "current-context": "replay",
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    def writes(self, method: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.method != "GET" and (method is None or r.method == method)]

    def __enter__(self) -> Replay:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # What the handler asks of the server's state.
    def answer(self, method: str, path: str, body: object) -> Answer:
        with self._lock:
            recorded = self.routes.get((method, path))
            if recorded is not None:
                return recorded
            if method == "GET" and path in self.objects:
                return Answer(body=self.objects[path])
            if method == "GET" and path.rstrip("/") + "/" in {key.rsplit("/", 1)[0] + "/" for key in self.objects}:
                prefix = path.rstrip("/") + "/"
                items = [obj for key, obj in self.objects.items() if key.rsplit("/", 1)[0] + "/" == prefix]
                return Answer(body={"kind": "List", "apiVersion": "v1", "metadata": {}, "items": items})
            if method == "POST" and isinstance(body, dict):
                name = body.get("metadata", {}).get("name", "")
                key = f"{path.rstrip('/')}/{name}"
                if key in self.objects:
                    return Answer(body=status_object(409, "AlreadyExists", f"{name} already exists"), status=409)
                self.objects[key] = body
                return Answer(body=body, status=201)
            if method == "PATCH" and isinstance(body, dict):
                existing = self.objects.get(path, {})
                self.objects[path] = {**existing, **body}
                return Answer(body=self.objects[path], status=200 if existing else 201)
            if method == "DELETE" and path in self.objects:
                removed = self.objects.pop(path)
                return Answer(body=removed)
        return Answer(
            body=status_object(404, "NotFound", f"the server could not find the requested resource ({method} {path})"), status=404
        )


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up on a slow answer (a timeout test) closes its end: not news."""


def _handler(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:  # quiet: pytest shows failures, not traffic
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            body: object = None
            if raw:
                try:
                    body = yaml.safe_load(raw) if "yaml" in content_type else json.loads(raw)
                except (ValueError, yaml.YAMLError):
                    body = raw.decode("utf-8", "replace")
            path = parts.path.rstrip("/") or "/"  # the client asks for `/version/`
            request = Request(self.command, path, parse_qs(parts.query), content_type, body)
            replay.requests.append(request)
            answer = replay.answer(self.command, path, body)
            if answer.delay:
                time.sleep(answer.delay)
            if answer.close:
                self.close_connection = True
                self.connection.close()
                return
            payload = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve  # noqa: N815

    return Handler
