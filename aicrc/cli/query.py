"""`aicrc query`: one value or subtree of the compiled recipe."""

from __future__ import annotations

import argparse

from aicrc.cli import criteria
from aicrc.cli.exits import ExitCode
from aicrc.cli.options import add_format_option
from aicrc.cli.parsing import Subparsers


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "query",
        "print one value or subtree of the compiled recipe",
        handler=run,
        step="querying",
        inputs="FILE SELECTOR",
    )
    add_format_option(parser, "text", "json", help="text: scalars raw, subtrees as YAML")


def run(args: argparse.Namespace) -> ExitCode:
    import json

    from aicrc.cli.output import write_output

    compilation, selector = criteria.compile_and_select(args, "SELECTOR")
    value = compilation.query(selector)
    if args.format == "json":
        text = json.dumps(value, indent=2) + "\n"
    elif isinstance(value, (dict, list)):
        from aicrc.compiler.emit.text import to_yaml

        text = to_yaml(value)
    else:
        text = (value if isinstance(value, str) else json.dumps(value)) + "\n"  # scalars raw: `v25.10.1`, `true`
    write_output(text, None)
    return ExitCode.OK
