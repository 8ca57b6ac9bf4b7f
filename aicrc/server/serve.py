"""Running the application on uvicorn: one process, or `workers` processes sharing one socket.

The socket is bound here, before any worker starts, so a port that is taken is one clear error,
and port 0 picks a free one; the line announcing the address names the port really bound. Each
worker builds the application itself (`create_app`, from the environment) and loads the library
once. With several workers the metrics of all of them are added up (metrics.py) through files in
a private folder, removed when the server stops.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile

from aicrc.server.protocol import GuardedH11Protocol
from aicrc.server.settings import Settings

APP = "aicrc.server.app:create_app"
BACKLOG = 2048  # connections the kernel queues before the server accepts them
GRACE_SECONDS = 25  # for requests under way when asked to stop: within Kubernetes' default 30 s grace


def bind(host: str, port: int) -> socket.socket:
    """The listening socket; OSError (port taken, address not local) for the caller to report."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every response written in two parts waits 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(sock: socket.socket, settings: Settings, *, workers: int = 1, access_log: bool = False) -> bool:
    """Serve until stopped (SIGINT, SIGTERM); False when a single process could not start (its log says why)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    metrics_folder = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_folder = tempfile.mkdtemp(prefix="aicrc-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_folder
    config = uvicorn.Config(
        APP,
        factory=True,
        workers=workers,
        http=GuardedH11Protocol,
        timeout_keep_alive=max(1, round(settings.keep_alive)),
        timeout_graceful_shutdown=GRACE_SECONDS,
        backlog=BACKLOG,
        server_header=False,
        access_log=access_log,
        lifespan="on",
    )
    host, port = sock.getsockname()[:2]
    print(f"aicrc serve: listening on http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''})", file=sys.stderr, flush=True)
    try:
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()  # restarts a worker that dies
            return True
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
        return server.started
    finally:
        if metrics_folder is not None:
            shutil.rmtree(metrics_folder, ignore_errors=True)
