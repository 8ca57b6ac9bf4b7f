"""`aicrc explain`: where a value came from, and what it overrode."""

from __future__ import annotations

import argparse

from aicrc.cli import criteria
from aicrc.cli.exits import ExitCode
from aicrc.cli.options import add_format_option
from aicrc.cli.parsing import Subparsers


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "explain",
        "show where a value came from and what it overrode",
        handler=run,
        step="explaining",
        inputs="FILE PATH",
    )
    add_format_option(parser, "text", "json")


def run(args: argparse.Namespace) -> ExitCode:
    import json

    from aicrc.cli.output import write_output
    from aicrc.tools.explain import render_text, to_data

    compilation, path = criteria.compile_and_select(args, "PATH")
    stories = compilation.explain(path)
    write_output(json.dumps(to_data(stories), indent=2) + "\n" if args.format == "json" else render_text(stories), None)
    return ExitCode.OK
