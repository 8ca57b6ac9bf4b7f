"""`aicrc validate`: check a cluster against what a recipe requires, phase by phase.

- readiness: every constraint of the compiled recipe (`K8s.server.version >= 1.32.4`,
  `OS.release.ID == ubuntu`, ...) against a snapshot's readings, as the reference compares them; a
  constraint the snapshot does not measure is skipped, never passed.
- deployment, conformance: the checks the recipe lists for the phase (`checks`), run from here
  through read-only API calls to the cluster (`--kubeconfig`, `--context`); each says what it looked at.
- performance: NCCL all-reduce bandwidth. `--nccl-job FILE` writes the Job that measures it for the
  recipe's accelerator; `--nccl-results FILE` holds its output to the recipe's threshold.
- all: every phase the inputs allow; the others are reported as skipped, with why.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from aicrc.cli import criteria
from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_cluster_options
from aicrc.cli.parsing import Subparsers, UsageError

if TYPE_CHECKING:
    from aicrc.cluster.report import Phase
    from aicrc.compiler.emit.model import CompiledRecipe

PHASES = ("readiness", "deployment", "performance", "conformance", "all")
CLUSTER_PHASES = ("deployment", "conformance")
CHECK_FAILED = ExitCode.FINDINGS  # 1: a constraint does not hold, or a check failed
COULD_NOT_CHECK = ExitCode.COULD_NOT_RUN  # 2: an input could not be read, or something was not checked

EPILOG = exit_codes(
    ok="everything the recipe lists for the phases was checked and holds",
    one="a constraint does not hold, or a check failed",
    two="could not check: the command line is wrong, an input has errors, the cluster could not\n"
    "       be reached, or a constraint or check was skipped (not measured, not allowed, not given)",
)
CHECKS_HELP = """\
checks (the recipe lists which, by phase; the reference's names):
  deployment   operator-health, expected-resources, gpu-operator-version, check-nvidia-smi
  performance  nccl-all-reduce-bw (from --nccl-results; --nccl-job writes the Job that measures it)
  conformance  dra-support, gang-scheduling, accelerator-metrics, ai-service-metrics, inference-gateway,
               pod-autoscaling, cluster-autoscaling, robust-controller, secure-accelerator-access,
               gpu-operator-health, platform-health
  The cluster checks only read (get and list, and Prometheus through the API server's service proxy).
"""


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "validate",
        "check a cluster (its snapshot, the cluster itself, an NCCL run) against a recipe",
        handler=run,
        step="validating",
        inputs="RECIPE",
    )
    parser.epilog = f"{criteria.EPILOG}\n{CHECKS_HELP}\n{EPILOG}"
    parser.set_defaults(input_error=COULD_NOT_CHECK)
    parser.add_argument(
        "--phase", choices=PHASES, default=PHASES[0], help="what to check (default readiness: the recipe's constraints against --snapshot)"
    )
    add_cluster_options(parser)
    parser.add_argument("--nccl-job", metavar="FILE", help="performance: write the NCCL all-reduce Job for the recipe's accelerator here")
    parser.add_argument(
        "--nccl-nodes", type=int, default=2, metavar="N", help="performance: GPU nodes the Job spans (default 2, at least 2)"
    )
    parser.add_argument("--nccl-results", metavar="FILE", help="performance: the Job's output (nccl-tests all_reduce_perf) to check")
    parser.add_argument(
        "--format", choices=("table", "json", "ctrf", "junit"), default="table", help="report format (default table; json also for errors)"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of stdout")


def run(args: argparse.Namespace) -> ExitCode:
    from aicrc import diagnostics as diag
    from aicrc.cli.output import report_error, write_output
    from aicrc.cluster.kube import KubeError
    from aicrc.cluster.readiness import check_readiness
    from aicrc.cluster.report import Report, render

    phases = PHASES[:-1] if args.phase == "all" else (args.phase,)
    _check_usage(args, phases)
    try:
        snapshot = None
        if args.snapshot:
            snapshot = criteria.read_snapshot_arg(args)  # a file, or cm://NAMESPACE/NAME
        compilation = criteria.compile_from_args(args, snapshot=snapshot)
        recipe = compilation.recipe
        checked: list[Phase] = []
        cluster = ""
        for phase in phases:
            if phase == "readiness":
                checked.append(check_readiness(recipe, snapshot, args.snapshot) if snapshot else _no_snapshot(recipe))
            elif phase == "performance":
                checked.append(_performance(args, recipe))
            else:
                cluster_phase, cluster = _cluster_phase(args, phase, recipe)
                checked.append(cluster_phase)
        report = Report(
            recipe.metadata.name,
            dict(recipe.metadata.criteria),
            tuple(checked),
            snapshot=args.snapshot or "",
            source_node=snapshot.metadata.get("source-node", "") if snapshot else "",
            cluster=cluster,
        )
        write_output(render(report, args.format), args.output)
    except KubeError as failure:  # the kubeconfig itself: nothing was checked
        report_error(failure.as_error(), args.format)
        return COULD_NOT_CHECK
    except diag.AicrcError as failure:  # exit 1 means a check does not hold: anything else is 2
        report_error(failure, args.format)
        return COULD_NOT_CHECK
    if report.count("failed"):
        return CHECK_FAILED
    return ExitCode.OK if report.passed else COULD_NOT_CHECK


def _check_usage(args: argparse.Namespace, phases: tuple[str, ...]) -> None:
    if phases == ("readiness",) and not args.snapshot:
        raise UsageError("--snapshot FILE is required (or cm://NAMESPACE/NAME): the measurements to check (see `aicrc snapshot`)")
    if (args.nccl_job or args.nccl_results) and "performance" not in phases:
        raise UsageError("--nccl-job and --nccl-results belong to --phase performance (or all)")
    if args.nccl_nodes < 2:
        raise UsageError(f"--nccl-nodes {args.nccl_nodes}: the all-reduce measures the fabric between nodes, so at least 2")


def _no_snapshot(recipe: CompiledRecipe) -> Phase:
    from aicrc.cluster.report import Phase, Result

    why = "not checked: no snapshot given (--snapshot FILE)"
    results = tuple(
        Result(c.name, "skipped", why, operator=c.operator, expected=str(c.value).strip(), layer=c.layer) for c in recipe.constraints
    )
    return Phase("readiness", "no snapshot", results, note="the recipe has no constraints to check")


def _cluster_phase(args: argparse.Namespace, phase: str, recipe: CompiledRecipe) -> tuple[Phase, str]:
    """The phase's checks against the cluster, and the cluster's address; run when the phase was
    asked for by name or a cluster was named (--kubeconfig, --context, $KUBECONFIG)."""
    from aicrc.cli.options import cluster_target
    from aicrc.cluster.checks import check_cluster, not_run
    from aicrc.cluster.kube import connect

    named = args.kubeconfig or args.context or os.environ.get("KUBECONFIG")
    if args.phase == "all" and not named:
        return not_run(phase, recipe, "no cluster", "not checked: no cluster given (--kubeconfig FILE or --context NAME)"), ""
    if not recipe.checks.get(phase):  # nothing to ask the cluster: do not ask for its credentials either
        return not_run(phase, recipe, "the cluster", ""), ""
    kube = connect(cluster_target(args))
    context = f" (context {args.context})" if args.context else ""
    return check_cluster(phase, recipe, kube, f"the cluster at {kube.host}{context}"), kube.host


def _performance(args: argparse.Namespace, recipe: CompiledRecipe) -> Phase:
    from pathlib import Path

    from aicrc.cli.output import write_output
    from aicrc.cluster.nccl import check_performance, read_results
    from aicrc.cluster.nccl_job import job_manifest

    results = read_results(Path(args.nccl_results), args.nccl_results) if args.nccl_results else None
    if args.nccl_job:
        write_output(job_manifest(recipe, args.nccl_nodes), args.nccl_job)
        how = f"run the Job written to {args.nccl_job} and give its first pod's log with --nccl-results FILE"
    else:
        how = "write the NCCL Job with --nccl-job FILE, run it, and give its first pod's log with --nccl-results FILE"
    return check_performance(recipe, results, args.nccl_results or "no NCCL results (--nccl-results)", how)
