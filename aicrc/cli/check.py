"""`aicrc check`: lint findings with stable codes, places and fix hints."""

from __future__ import annotations

import argparse
import os
import sys

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_format_option, add_overlay_option
from aicrc.cli.parsing import Subparsers, add_command


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "check",
        "lint .aicr files: findings with stable codes, places and fix hints",
        handler=run,
        step="checking",
        details=" (folders are searched for *.aicr)",
        epilog=exit_codes(
            ok="no findings",
            one="findings",
            two="usage error, or a file could not be checked (it does not parse or compile)",
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH")
    add_overlay_option(parser)
    add_format_option(parser, "text", "json", "sarif", help="output format (default text); sarif: SARIF 2.1.0 for code scanning")


def run(args: argparse.Namespace) -> ExitCode:
    from aicrc.tools.lint import output
    from aicrc.tools.lint.run import check_paths

    report = check_paths(args.paths, args.overlay)
    if args.format == "json":
        sys.stdout.write(output.render_json(report))
    elif args.format == "sarif":
        sys.stdout.write(output.render_sarif(report))
    else:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.stdout.write(output.render_text(report, color=color))
    if report.failures or any(d.severity == "error" for d in report.findings):
        return ExitCode.COULD_NOT_RUN
    return ExitCode.FINDINGS if report.findings else ExitCode.OK
