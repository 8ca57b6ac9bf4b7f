"""`aicrc lsp`: the language server, over stdio, for editors."""

from __future__ import annotations

import argparse

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.parsing import Subparsers, add_command


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "lsp",
        "run the language server over stdio (for editors)",
        handler=run,
        step="serving the language server",
        details=":\ndiagnostics, hover with provenance, definitions, completion, formatting",
        epilog=exit_codes(ok="the editor shut the server down"),
    )
    parser.add_argument("--stdio", action="store_true", help="accepted for editors that pass it; stdio is the only transport")


def run(args: argparse.Namespace) -> ExitCode:
    from aicrc.lsp.server import main as serve

    serve()
    return ExitCode.OK
