"""`aicrc fmt`: .aicr files in the one canonical layout, in place (or only reported)."""

from __future__ import annotations

import argparse
import sys

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.parsing import Subparsers, UsageError, add_command


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "fmt",
        "format .aicr files in place in the one canonical layout",
        handler=run,
        step="formatting",
        details=" (folders are searched for *.aicr)",
        epilog=exit_codes(
            ok="success (with --check: nothing would change)",
            one="a file would change (--check) or does not parse",
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--check", action="store_true", help="change nothing; list the files that would change and exit 1 if any")
    parser.add_argument("--diff", action="store_true", help="change nothing; print what would change as a unified diff")


def run(args: argparse.Namespace) -> ExitCode:
    """A file that does not parse is reported and left alone; the others are still formatted."""
    import difflib

    from aicrc import diagnostics as diag
    from aicrc.cli.output import report_error, write_output
    from aicrc.compiler.load.loader import find_sources, read_source
    from aicrc.tools.fmt import format_source

    if args.check and args.diff:
        raise UsageError("--check and --diff exclude each other")
    failed, changed = [], []
    for path, display in find_sources(args.paths):
        try:
            source = read_source(path, display)
            formatted = format_source(source)
        except diag.AicrcError as failure:
            failed.append(failure)
            continue
        if formatted == source.text:
            continue
        changed.append(display)
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(source.text.splitlines(True), formatted.splitlines(True), display, display))
        elif not args.check:
            write_output(formatted, str(path))
    for problem in failed:
        report_error(problem, "text")
    if args.check:
        for display in changed:
            print(f"would reformat {display}")
    elif not args.diff and changed:
        print(f"reformatted {len(changed)} file(s)", file=sys.stderr)
    if failed:
        return ExitCode.INPUT_ERROR
    return ExitCode.WOULD_CHANGE if args.check and changed else ExitCode.OK
