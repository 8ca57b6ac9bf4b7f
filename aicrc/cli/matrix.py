"""`aicrc matrix`: every combination of dimension values compiled, then each RECIPE; a progress
bar on stderr while it runs, when stderr is a terminal."""

from __future__ import annotations

import argparse
import sys

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_format_option, add_overlay_option
from aicrc.cli.parsing import Subparsers, add_command


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "matrix",
        "compile every combination of dimension values, then each RECIPE",
        handler=run,
        step="compiling the matrix",
        details="\n(a RECIPE is a file, or the name of a recipe shipped with aicrc)",
        epilog=exit_codes(one="a RECIPE does not compile, or the library has errors"),
    )
    parser.add_argument("recipes", nargs="*", metavar="RECIPE")
    add_overlay_option(parser)
    add_format_option(parser, "text", "json")


def run(args: argparse.Namespace) -> ExitCode:
    import json

    from tqdm import tqdm

    from aicrc import diagnostics as diag
    from aicrc.api import load_library
    from aicrc.cli.output import write_output
    from aicrc.cli.recipe_names import recipe_path
    from aicrc.tools.matrix import count, matrix, render_text, to_data

    library = load_library(args.overlay)
    recipes = []
    for given in args.recipes:
        try:
            recipes.append(recipe_path(given))
        except diag.AicrcError:  # not here, not shipped: its row fails with "no such file"
            recipes.append(given)
    # Only a person watching a terminal wants a bar; a pipe or a log gets nothing extra.
    bar = tqdm(
        total=count(library, recipes), desc="compiling", unit="recipe", file=sys.stderr, disable=not sys.stderr.isatty(), leave=False
    )
    with bar:
        dimensions, combinations, files = matrix(library, recipes, on_row=lambda row: bar.update())
    text = (
        json.dumps(to_data(dimensions, combinations, files), indent=2) + "\n"
        if args.format == "json"
        else render_text(dimensions, combinations, files)
    )
    write_output(text, None)
    return ExitCode.INPUT_ERROR if any(not row.ok for row in files) else ExitCode.OK
