"""`aicrc serve` as the tests run it: a real uvicorn in a process of its own, on a free port of
127.0.0.1 (`--port 0`; the port comes from the line it prints), stopped with SIGTERM afterwards.
The reference's `aicrd`, when AICRD_BIN names it, runs the same way on a port chosen here."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"aicrc serve: listening on (http://[^ ]+)")
START_SECONDS = 60  # a busy 2-core machine starts Python, uvicorn and the library slowly


class Server:
    def __init__(self, url: str, process: subprocess.Popen[str], log: list[str]) -> None:
        self.url = url
        self.process = process
        self.log = log  # what it printed, stdout and stderr together
        self.port = int(url.rsplit(":", 1)[1])

    def client(self, **options: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **options)  # type: ignore[arg-type]


@contextlib.contextmanager
def running(env: Mapping[str, str] | None = None, args: Sequence[str] = ()) -> Iterator[Server]:
    """`aicrc serve --port 0 ARGS`, with the environment's AICRC_SERVER_* and AICRC_ALLOWED_* replaced by `env`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AICRC_SERVER_", "AICRC_ALLOWED_", "AICR_ALLOWED_"))}
    environment |= {"PYTHONPATH": str(ROOT), "AICRC_SERVER_RATE_LIMIT": "0", **(env or {})}
    command = [sys.executable, "-m", "aicrc", "serve", "--port", "0", *args]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    log: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def drain() -> None:  # read everything it prints, so that a full pipe never blocks it
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)
            match = LISTENING.search(line)
            if match and not url:
                url.append(match.group(1))
                found.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not found.wait(START_SECONDS):
            raise RuntimeError("aicrc serve did not start:\n" + "".join(log))
        server = Server(url[0], process, log)
        wait_until_ready(server.url, process)
        yield server
    finally:
        stop(process)


def wait_until_ready(url: str, process: subprocess.Popen[str] | subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} was not ready in {START_SECONDS} s")


def stop(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_reference(binary: str, attempts: int = 3) -> Iterator[str]:
    """The reference's aicrd on a free loopback port (it reads PORT; it listens on every interface).
    The port is chosen here, before aicrd binds it: one taken meanwhile is tried again with another."""
    for attempt in range(attempts):
        port = free_port()
        process = subprocess.Popen([binary], env={**os.environ, "PORT": str(port)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(url, process)
        except RuntimeError:
            stop(process)
            if attempt == attempts - 1:
                raise
            continue
        try:
            yield url
        finally:
            stop(process)
        return
