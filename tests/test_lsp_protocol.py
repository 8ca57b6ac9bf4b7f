"""The language server against a client that misbehaves: raw bytes on its stdin, framed answers
read from its stdout. Whatever arrives, every request is answered, every document gets its
diagnostics, a broken frame costs only itself, and nothing waits forever (every read here has a
deadline, so a server that goes silent fails the test instead of hanging the suite)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aicrc.lsp.analysis import Analysis, internal_error
from aicrc.source import Span
from tests.conftest import ROOT

DEADLINE_S = 15.0  # what a failing test waits at most; a passing one answers in well under a second
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}, "rootUri": ROOT.as_uri()}}


def frame(message: dict[str, Any] | bytes) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawClient:
    """`aicrc lsp` as a subprocess; a thread parses its stdout into messages."""

    def __init__(self, *argv: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *(argv or ("-m", "aicrc", "lsp"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = None
            while (line := stdout.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if line == b"" or length is None:
                self.messages.put(None)
                return
            self.messages.put(json.loads(stdout.read(length)))

    def send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def until(self, wanted: Callable[[dict[str, Any]], bool]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The first message `wanted` accepts, and those that came before it."""
        before = []
        while True:
            try:
                message = self.messages.get(timeout=DEADLINE_S)
            except queue.Empty:
                pytest.fail(f"no answer within {DEADLINE_S} s; got {before}")
            if message is None:
                pytest.fail(f"the server closed its output; got {before}")
            if wanted(message):
                return message, before
            before.append(message)

    def answer(self, msg_id: int | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return self.until(lambda m: "method" not in m and m.get("id") == msg_id)

    def close(self) -> str:
        """Ends the input; the server must exit promptly. Its stderr."""
        assert self.process.stdin is not None and self.process.stderr is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail("the server did not exit when its input ended")
        return self.process.stderr.read().decode()


@pytest.fixture
def client() -> Iterator[RawClient]:
    raw = RawClient()
    yield raw
    if raw.process.poll() is None:
        raw.process.kill()
        raw.process.wait()


def _initialized(client: RawClient) -> None:
    client.send(frame(INITIALIZE) + frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    result, _ = client.answer(1)
    assert "capabilities" in result["result"]


def _no_tracebacks(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert all(line.startswith("aicrc lsp: ") for line in stderr.splitlines()), stderr


# ---- messages that cannot be read ----------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\xfd", b"[" * 100_000], ids=["not-json", "not-utf-8", "nested-too-deep"])
def test_a_body_that_is_not_json_is_a_parse_error_and_the_next_message_is_served(client: RawClient, body: bytes) -> None:
    client.send(frame(body) + frame(INITIALIZE))
    error, _ = client.answer(None)
    assert error["error"]["code"] == -32700 and error["jsonrpc"] == "2.0" and "id" in error
    result, _ = client.answer(1)
    assert "capabilities" in result["result"]
    _no_tracebacks(client.close())


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b"42",
        b'{"id": 5, "method": "initialize", "params": {}}',
        b'{"jsonrpc": "1.0", "id": 5, "method": "initialize", "params": {"capabilities": {}}}',
    ],
    ids=["array", "number", "no-jsonrpc", "jsonrpc-1.0"],
)
def test_json_that_is_not_a_message_is_an_invalid_request(client: RawClient, body: bytes) -> None:
    client.send(frame(body))
    error, _ = client.until(lambda m: "error" in m)
    assert error["error"]["code"] == -32600
    assert error["id"] == (5 if b'"id": 5' in body else None)
    _initialized(client)


HOVER = {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover"}
DOCUMENT = {"uri": (ROOT / "recipes" / "scratch-protocol.aicr").as_uri()}


@pytest.mark.parametrize(
    "params",
    [
        None,
        {"textDocument": DOCUMENT, "position": {"line": -1, "character": 0}},
        {"textDocument": DOCUMENT, "position": {"line": "one", "character": 0}},
        {"textDocument": DOCUMENT},
    ],
    ids=["null", "line-minus-one", "line-not-a-number", "no-position"],
)
def test_a_request_with_invalid_params_is_answered_invalid_params(client: RawClient, params: Any) -> None:
    _initialized(client)
    client.send(frame({**HOVER, "params": params}))
    error, _ = client.answer(2)
    assert error["error"]["code"] == -32602 and error["error"]["message"].startswith("Invalid params")
    client.send(frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
    assert client.answer(3)[0]["result"] is None
    _no_tracebacks(client.close())


def test_a_notification_with_invalid_params_is_ignored_and_serving_goes_on(client: RawClient) -> None:
    _initialized(client)
    client.send(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": None}))
    client.send(frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
    _, before = client.answer(3)
    assert not [m for m in before if "id" in m]  # a notification is never answered
    stderr = client.close()
    _no_tracebacks(stderr)
    assert "ignored textDocument/didOpen" in stderr


# ---- documents the analysis cannot cope with -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '"recipe r {\\n    service = eks\\n    set gpu-operator.x = ' + "9" * 5000 + '\\n}\\n"',
        '"recipe r {\\n    service = \\ud800\\n}\\n"',
        '"recipe r {\\n    service = eks\\n    set gpu-operator.x = \\"\\ud800\\"\\n}\\n"',
    ],
    ids=["5000-digit-integer", "lone-surrogate-as-a-name", "lone-surrogate-in-a-string"],
)
def test_a_document_that_trips_the_analysis_still_gets_diagnostics(client: RawClient, text: str) -> None:
    _initialized(client)
    uri = json.dumps(DOCUMENT["uri"])
    opened = '{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": '
    opened += f'{{"uri": {uri}, "languageId": "aicr", "version": 1, "text": {text}}}}}}}'
    client.send(frame(opened.encode()))
    published, _ = client.until(lambda m: m.get("method") == "textDocument/publishDiagnostics")
    assert published["params"]["uri"] == DOCUMENT["uri"]
    diagnostics = published["params"]["diagnostics"]
    assert diagnostics and all(d["severity"] == 1 for d in diagnostics)
    client.send(frame({**HOVER, "params": {"textDocument": DOCUMENT, "position": {"line": 1, "character": 16}}}))
    assert "error" not in client.answer(2)[0]


# The real server, with a bug injected where any text could trigger one.
FAULTY = """
from aicrc.lsp import analysis, server

def analyse(self, path, text):
    raise RuntimeError("injected fault")

analysis.Workspace.analyse = analyse
server.main()
"""


def test_an_exception_in_the_analysis_is_published_as_a_diagnostic() -> None:
    client = RawClient("-c", FAULTY)
    try:
        _initialized(client)
        opened = {"textDocument": {**DOCUMENT, "languageId": "aicr", "version": 1, "text": "recipe r {}\n"}}
        client.send(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": opened}))
        published, _ = client.until(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        [problem] = published["params"]["diagnostics"]
        assert problem["severity"] == 1 and problem["code"] == "E0001" and "RuntimeError: injected fault" in problem["message"]
        assert problem["range"]["start"] == {"line": 0, "character": 0}
    finally:
        client.process.kill()
        client.process.wait()


def test_an_exception_is_an_internal_error_diagnostic_at_the_top() -> None:
    analysis = Analysis(Path("x.aicr"), "x.aicr", "recipe r {}\n")
    problem = internal_error(RuntimeError("boom\nsecond line"), analysis)
    assert problem.severity == "error" and problem.code == "E0001"
    assert "internal error" in problem.message and "RuntimeError: boom" in problem.message and "second" not in problem.message
    assert problem.span is not None and (problem.span.line, problem.span.col) == (1, 1)


def test_an_encoding_failure_is_placed_at_the_character() -> None:
    text = "recipe r {\n    service = e\ud800ks\n}\n"
    analysis = Analysis(Path("x.aicr"), "x.aicr", text)
    with pytest.raises(UnicodeEncodeError) as raised:
        text.encode("utf-8")
    problem = internal_error(raised.value, analysis)
    assert "UnicodeEncodeError" in problem.message
    assert problem.span is not None and (problem.span.line, problem.span.col) == (2, 16)
    with pytest.raises(UnicodeEncodeError) as raised:
        "another \ud800 text".encode("utf-8")
    assert internal_error(raised.value, analysis).span == Span("x.aicr", 1, 1, 1, 1)  # not in this text


# ---- frames whose Content-Length is wrong ----------------------------------------------------------

GOOD = {**INITIALIZE, "id": 7}
BODY = json.dumps(INITIALIZE).encode()


@pytest.mark.parametrize(
    ("broken", "parse_error"),
    [
        (b"Content-Length: 500\r\n\r\n" + BODY, True),  # the next frame is read as its body
        (b"Content-Length: %d\r\n\r\n" % (len(BODY) + 5) + BODY, True),  # ... up to its header's middle
        (b"Content-Length: 10\r\n\r\n" + BODY, True),  # its rest is skipped up to the next header
        (b"Content-Length: abc\r\n\r\n" + BODY, True),
        (b"Content-Length: -5\r\n\r\n" + BODY, True),
        (b"Content-Length: 0\r\n\r\n" + BODY, True),
        (b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n" + BODY, True),
        (b"Content-Length: 12\r\n" + BODY, True),  # no blank line after the header
        (b"garbage without any header\r\n\r\n", False),
    ],
    ids=["too-long", "too-long-by-5", "too-short", "not-a-number", "negative", "zero", "5000-digits", "no-blank-line", "no-header"],
)
def test_after_a_broken_frame_the_next_good_frame_is_answered(client: RawClient, broken: bytes, parse_error: bool) -> None:
    client.send(broken + frame(GOOD))
    result, before = client.answer(7)
    assert "capabilities" in result["result"]
    assert [m["error"]["code"] for m in before if "error" in m] == ([-32700] if parse_error else [])
    assert not [m for m in before if m.get("id") == 1]  # the broken frame's own message is not acted on
    client.send(frame({"jsonrpc": "2.0", "id": 8, "method": "shutdown"}))
    client.answer(8)
    _no_tracebacks(client.close())


def test_a_length_too_long_by_a_few_bytes_is_caught_before_the_rest_arrives(client: RawClient) -> None:
    """The body ends inside the next frame's header line, whose rest the client sends later."""
    good = frame(GOOD)
    client.send(b"Content-Length: %d\r\n\r\n" % (len(BODY) + 5) + BODY + good[:5])
    error, _ = client.answer(None)
    assert error["error"]["code"] == -32700
    client.send(good[5:])
    assert "capabilities" in client.answer(7)[0]["result"]


def test_input_ending_inside_a_frame_stops_the_server_with_one_line(client: RawClient) -> None:
    client.send(b"Content-Length: 500\r\n\r\n" + BODY[:20])
    [line] = client.close().splitlines()
    assert "the input ended inside a frame" in line
