"""`aicrc validate`: check a cluster, as a snapshot measured it, against what a recipe requires.

The readiness phase checks every constraint of the compiled recipe (`constraints`:
`K8s.server.version >= 1.32.4`, `OS.release.ID == ubuntu`, ...) against the snapshot's readings, as
the reference compares them. A constraint whose reading the snapshot lacks is skipped, never
passed. The phases that run checks in the cluster (deployment, performance, conformance) are not
built yet.
"""

from __future__ import annotations

import argparse

from aicrc.cli import criteria
from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.parsing import Subparsers, UsageError

PHASES = ("readiness",)
CHECK_FAILED = ExitCode.FINDINGS  # 1: a constraint does not hold
COULD_NOT_CHECK = ExitCode.COULD_NOT_RUN  # 2: an input could not be read, or a constraint was not checked

EPILOG = exit_codes(
    ok="every constraint was checked and holds",
    one="a constraint does not hold",
    two="could not check: the command line is wrong, the recipe or the snapshot has errors,\n"
    "       or a constraint was skipped (the snapshot does not measure it)",
)


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "validate",
        "check a cluster's snapshot against a recipe's constraints",
        handler=run,
        step="validating",
        inputs="RECIPE",
    )
    parser.epilog = f"{criteria.EPILOG}\n{EPILOG}"
    parser.set_defaults(input_error=COULD_NOT_CHECK)
    parser.add_argument("--phase", choices=PHASES, default=PHASES[0], help="what to check (default readiness: the recipe's constraints)")
    parser.add_argument(
        "--format", choices=("table", "json", "ctrf", "junit"), default="table", help="report format (default table; json also for errors)"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of stdout")


def run(args: argparse.Namespace) -> ExitCode:
    from pathlib import Path

    from aicrc import diagnostics as diag
    from aicrc.cli.output import report_error, write_output
    from aicrc.cluster.read import read_snapshot
    from aicrc.cluster.readiness import check_readiness
    from aicrc.cluster.report import render

    if not args.snapshot:
        raise UsageError("--snapshot FILE is required: the measurements to check (take them with `aicrc snapshot -o FILE`)")
    try:
        snapshot = read_snapshot(Path(args.snapshot), args.snapshot)
        compilation = criteria.compile_from_args(args, snapshot=snapshot)
        report = check_readiness(compilation.recipe, snapshot, args.snapshot)
        write_output(render(report, args.format), args.output)
    except diag.AicrcError as failure:  # exit 1 means a constraint does not hold: anything else is 2
        report_error(failure, args.format)
        return COULD_NOT_CHECK
    if report.count("failed"):
        return CHECK_FAILED
    return ExitCode.OK if report.passed else COULD_NOT_CHECK
