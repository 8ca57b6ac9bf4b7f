"""`aicrc drift`: the Helm releases a cluster has, against the Helm components a recipe installs:
missing and extra releases, another namespace, chart or chart version, a release not deployed,
and values that differ (each path, with both values).

The releases come from the cluster itself (its release Secrets, read with --kubeconfig and
--context), or, with --snapshot, from a snapshot's `K8s.helm` readings (a file, or a ConfigMap
`cm://NAMESPACE/NAME` of the cluster named; criteria not given are then inferred from it, as for
validate). A snapshot keeps only a digest of each release's values: drift can tell from it that
values differ, not where.
"""

from __future__ import annotations

import argparse

from aicrc.cli import criteria
from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_cluster_options
from aicrc.cli.parsing import Subparsers

DRIFT_FOUND = ExitCode.FINDINGS  # 1
COULD_NOT_CHECK = ExitCode.COULD_NOT_RUN  # 2

EPILOG = exit_codes(
    ok="no drift: every release the recipe installs is there, as the recipe has it, and no other",
    one="drift found",
    two="could not check: the command line is wrong, the recipe or the snapshot has errors, the\n"
    "       cluster could not be read (E0910), or a release could not be read or its values compared",
)

DETAILS = """

The releases are the cluster's (its Helm release Secrets; RBAC: list secrets), or with --snapshot
those the snapshot recorded (K8s.helm), which keeps only a digest of each release's values: drift
then tells that values differ, not where. Extra releases are reported only in the namespaces the
recipe installs into: releases elsewhere are the cluster's own business. A release of a
manifests-only component, or of a component's extra manifests (NAME.manifests), is how a Helmfile
bundle installs them: the recipe's, not extra."""


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "drift",
        "compare a cluster's Helm releases with what a recipe installs",
        handler=run,
        step="checking for drift",
        inputs="RECIPE",
    )
    parser.description = f"{parser.description or ''}{DETAILS}"
    parser.epilog = f"{criteria.EPILOG}\n{EPILOG}"
    parser.set_defaults(input_error=COULD_NOT_CHECK)
    add_cluster_options(parser)  # the cluster whose releases are compared (criteria commands may declare it already)
    parser.add_argument("--format", choices=("table", "json"), default="table", help="report format (default table; json also for errors)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of stdout")


def run(args: argparse.Namespace) -> ExitCode:
    from aicrc import diagnostics as diag
    from aicrc.cli.options import cluster_target
    from aicrc.cli.output import report_error, write_output
    from aicrc.cluster.drift import Installed, check_drift, releases_in_snapshot
    from aicrc.cluster.drift_report import render
    from aicrc.cluster.kube import KubeError

    installed: list[Installed]
    notes: list[str] = []
    try:
        if args.snapshot:
            snapshot = criteria.read_snapshot_arg(args)  # a file, or cm:// of the cluster --kubeconfig names
            compilation = criteria.compile_from_args(args, snapshot=snapshot)
            recorded, notes = releases_in_snapshot(snapshot, args.snapshot)
            installed, source = list(recorded), f"snapshot {args.snapshot}"
        else:
            from aicrc.cluster.helm_releases import list_releases
            from aicrc.cluster.kube import connect

            compilation = criteria.compile_from_args(args)  # the recipe's errors before any request
            kube = connect(cluster_target(args))
            installed = list(list_releases(kube))
            source = f"cluster {kube.host}" + (f" (context {args.context})" if args.context else "")
        report = check_drift(compilation.recipe, installed, source, notes)
        write_output(render(report, args.format), args.output)
    except KubeError as failure:
        report_error(failure.as_error(), args.format)
        return COULD_NOT_CHECK
    except diag.AicrcError as failure:  # exit 1 means drift: anything that stopped the check is 2
        report_error(failure, args.format)
        return COULD_NOT_CHECK
    if report.drifted:
        return DRIFT_FOUND
    return ExitCode.OK if report.complete else COULD_NOT_CHECK
