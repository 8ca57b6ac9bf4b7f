"""`aicrc verify`: check a bundle against its checksums and report the trust level it reaches."""

from __future__ import annotations

import argparse
import sys

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_format_option
from aicrc.cli.parsing import Subparsers, add_command


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "verify",
        "check a bundle against its checksums.txt and report the trust level it reaches",
        handler=run,
        step="verifying",
        epilog=exit_codes(
            ok="every file matches checksums.txt",
            one="a file changed, is missing, or is not listed (each is named)",
            two="usage error, or DIR is not a bundle (no folder, or no checksums.txt in it)",
        ),
    )
    parser.add_argument("directory", metavar="DIR")
    add_format_option(parser, "text", "json", help="output format (default text); json: the report, problems included")


def run(args: argparse.Namespace) -> ExitCode:
    import json
    from pathlib import Path

    from aicrc import diagnostics as diag
    from aicrc.bundle.verify import verify
    from aicrc.cli.output import report_error, stderr_has_color, write_output

    try:
        report = verify(Path(args.directory))
    except diag.AicrcError as failure:
        if any(d.code != "E0805" for d in failure.diagnostics):
            raise
        report_error(failure, args.format)
        return ExitCode.COULD_NOT_RUN
    if args.format == "json":
        write_output(json.dumps(report.to_dict(), indent=2) + "\n", None)
    else:
        if report.problems:
            print(diag.render_all(report.problems, report.sources, color=stderr_has_color()), file=sys.stderr)
        write_output(report.render_text(), None)
    return ExitCode.INPUT_ERROR if report.problems else ExitCode.OK
