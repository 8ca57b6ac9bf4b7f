"""`aicrc diff`: two recipes compared, like diff(1): components swapped and values changed."""

from __future__ import annotations

import argparse

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_format_option, add_overlay_option, add_set_option
from aicrc.cli.parsing import Subparsers, add_command


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "diff",
        "compare two recipes: components swapped and values changed",
        handler=run,
        step="comparing",
        details="\n(A and B are recipe files, or the names of recipes shipped with aicrc)",
        epilog=exit_codes(ok="the recipes are equal", one="the recipes differ", two="usage error, or an input has errors"),
    )
    parser.add_argument("a", metavar="A")
    parser.add_argument("b", metavar="B")
    add_overlay_option(parser)
    add_format_option(parser, "text", "json")
    add_set_option(parser, help="override one value on both sides (repeatable; VALUE is read as YAML)")


def run(args: argparse.Namespace) -> ExitCode:
    import json

    from aicrc import diagnostics as diag
    from aicrc.api import load_library, parse_override
    from aicrc.cli.output import print_warnings, report_error, write_output
    from aicrc.cli.recipe_names import recipe_path
    from aicrc.tools.diff import diff, render_text, to_data

    try:
        library = load_library(args.overlay)
        overrides = [parse_override(text) for text in args.set]
        a, b = (library.compile_file(recipe_path(given), overrides=overrides) for given in (args.a, args.b))
    except diag.AicrcError as failure:  # like diff(1): trouble is 2, so that 1 always means "different"
        report_error(failure, args.format)
        return ExitCode.COULD_NOT_RUN
    print_warnings(a)
    print_warnings(b)
    difference = diff(a, b)
    write_output(json.dumps(to_data(difference), indent=2) + "\n" if args.format == "json" else render_text(difference), None)
    return ExitCode.OK if difference.equal else ExitCode.DIFFERENT
