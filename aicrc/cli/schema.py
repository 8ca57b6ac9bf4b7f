"""`aicrc schema`: the JSON Schema of compiled recipes."""

from __future__ import annotations

import argparse

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.parsing import Subparsers, add_command


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "schema",
        "print the JSON Schema of compiled recipes",
        handler=run,
        step="writing the schema",
        epilog=exit_codes(one="the output file could not be written"),
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")


def run(args: argparse.Namespace) -> ExitCode:
    import json

    from aicrc.cli.output import write_output
    from aicrc.compiler.emit.model import json_schema

    write_output(json.dumps(json_schema(), indent=2) + "\n", args.output)
    return ExitCode.OK
