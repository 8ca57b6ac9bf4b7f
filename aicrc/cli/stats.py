"""`aicrc stats`: how many components and configuration values a compiled recipe has."""

from __future__ import annotations

import argparse

from aicrc.cli import criteria
from aicrc.cli.exits import ExitCode
from aicrc.cli.options import add_format_option
from aicrc.cli.parsing import Subparsers


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "stats",
        "count the components and configuration values of a compiled recipe",
        handler=run,
        step="counting",
        inputs="FILE",
    )
    add_format_option(parser, "text", "json")


def run(args: argparse.Namespace) -> ExitCode:
    import json

    from aicrc.cli.output import write_output
    from aicrc.tools.stats import render_text, stats

    compilation = criteria.compile_from_args(args)
    summary = stats(compilation.document)
    write_output(json.dumps(summary, indent=2) + "\n" if args.format == "json" else render_text(summary), None)
    return ExitCode.OK
