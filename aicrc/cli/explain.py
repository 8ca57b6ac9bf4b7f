"""`aicrc explain`: where a value came from and what it overrode, and where each criterion of the
recipe came from (the recipe, a flag, a --criteria file, a snapshot's reading, a default)."""

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
    from aicrc.tools.explain import criteria_data, criteria_origins, render_criteria, render_text, to_data

    compilation, path = criteria.compile_and_select(args, "PATH")
    stories = compilation.explain(path)
    origins = criteria_origins(compilation)
    recipe = compilation.resolved.recipe
    if args.format == "json":
        data = {"recipe": recipe, "criteria": criteria_data(origins), "values": to_data(stories)}
        write_output(json.dumps(data, indent=2) + "\n", None)
    else:
        write_output(f"{render_text(stories)}\n{render_criteria(recipe, origins)}", None)
    return ExitCode.OK
