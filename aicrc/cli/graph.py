"""`aicrc graph`: the dependency graph of a compiled recipe with its install waves."""

from __future__ import annotations

import argparse

from aicrc.cli import criteria
from aicrc.cli.bundle import add_compiled_option, recipe_from_args
from aicrc.cli.exits import ExitCode
from aicrc.cli.options import add_format_option
from aicrc.cli.parsing import Subparsers


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "graph",
        "print the dependency graph of a recipe, with its install waves",
        handler=run,
        step="drawing the graph",
        inputs="RECIPE",
    )
    add_compiled_option(parser)
    add_format_option(
        parser, "mermaid", "dot", "json", help="mermaid (default; renders in GitHub and GitLab Markdown), dot (Graphviz), or json"
    )


def run(args: argparse.Namespace) -> ExitCode:
    from aicrc.bundle.graph import render
    from aicrc.cli.output import write_output

    write_output(render(recipe_from_args(args), args.format), None)
    return ExitCode.OK
