"""`aicrc serve`: the REST API (the reference's recipe API, and aicrc's own) on HOST:PORT."""

from __future__ import annotations

import argparse

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_overlay_option
from aicrc.cli.parsing import Subparsers, UsageError, add_command

DEFAULT_PORT = 8080  # the reference's; PORT in the environment changes it, as it does the reference's

DETAILS = """

Routes: GET|POST /v1/recipe, GET|POST /v1/query, POST /v1/bundle (the reference's), POST
/v1/compile, /v1/explain, /v1/diff, /v1/validate, GET /v1/matrix (aicrc's), /health, /ready,
/metrics, and the OpenAPI document at /openapi.json. Errors are one JSON envelope: {code, message,
details, requestId, timestamp, retryable}.

Limits are set in the environment (AICRC_SERVER_RATE_LIMIT, _RATE_BURST, _MAX_BODY_BYTES,
_COMPILE_TIMEOUT, _BODY_TIMEOUT, _HEADER_TIMEOUT, _KEEP_ALIVE, _MAX_IN_FLIGHT, _MAX_CONNECTIONS,
_MEMO_BYTES), and the values a request may ask for with AICRC_ALLOWED_<DIMENSION>=a,b (the
reference's AICR_ALLOWED_* too). A posted recipe imports from the standard library and the
--overlay folders (and AICRC_PATH) only."""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "serve",
        "serve the REST API: the reference's recipe API and aicrc's own",
        handler=run,
        step="serving",
        details=DETAILS,
        epilog=exit_codes(
            ok="stopped (Ctrl-C, SIGTERM)",
            one="the library or an overlay has errors",
            two="usage error: the command line or a setting in the environment is wrong;\n       or the address cannot be listened on",
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, metavar="PORT", help=f"the port (default $PORT, else {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes sharing the port (default 1)")
    parser.add_argument("--access-log", action="store_true", help="log every request on stderr")
    add_overlay_option(parser)


def run(args: argparse.Namespace) -> ExitCode:
    import os

    from aicrc.api import load_library
    from aicrc.server.reference import Vocabulary
    from aicrc.server.serve import bind, serve
    from aicrc.server.settings import check_allowlists, from_env

    port = args.port if args.port is not None else _port_from_env(os.environ.get("PORT"))
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: a port is 0 to 65535")
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: at least 1")
    try:
        settings = from_env()
    except ValueError as problem:
        raise UsageError(str(problem)) from None
    vocabulary = Vocabulary.of(load_library(args.overlay))  # its errors are the input's: reported, exit 1
    try:
        check_allowlists(settings, vocabulary.values, vocabulary.aliases)
        sock = bind(args.host, port)
    except ValueError as problem:
        raise UsageError(str(problem)) from None
    except OSError as failure:
        raise UsageError(f"cannot listen on {args.host}:{port}: {failure.strerror or failure}") from None
    if args.overlay:  # each worker loads the library itself, from the environment
        os.environ["AICRC_PATH"] = os.pathsep.join([*args.overlay, *filter(None, [os.environ.get("AICRC_PATH")])])
    if not serve(sock, settings, workers=args.workers, access_log=args.access_log):
        raise UsageError("the server did not start (its log above says why)")
    return ExitCode.OK


def _port_from_env(text: str | None) -> int:
    if not text:
        return DEFAULT_PORT
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"PORT={text!r}: expected a port number") from None
