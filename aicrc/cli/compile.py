"""`aicrc compile`: a recipe (or criteria) into one resolved, version-locked configuration."""

from __future__ import annotations

import argparse

from aicrc.cli import criteria
from aicrc.cli.exits import ExitCode
from aicrc.cli.options import add_format_option
from aicrc.cli.parsing import Subparsers


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "compile",
        "compile a recipe into one resolved, version-locked configuration",
        handler=run,
        step="compiling",
        inputs="FILE",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout (only when the compile succeeds)")
    add_format_option(
        parser,
        "yaml",
        "json",
        "aicr",
        help="output format (default yaml); json also for errors; aicr: the reference system's RecipeResult",
    )


def run(args: argparse.Namespace) -> ExitCode:
    from aicrc.cli.output import write_output

    compilation = criteria.compile_from_args(args)
    write_output(compilation.render(args.format), args.output)
    return ExitCode.OK
