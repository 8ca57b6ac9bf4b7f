"""`aicrc snapshot`: measure this node (or a tree copied from one, `--root DIR`) into a Snapshot,
the reference system's document; and the criteria that compile, explain, query, stats and validate
infer from one (`--snapshot FILE`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_cluster_options, add_format_option
from aicrc.cli.parsing import Subparsers, UsageError, add_command

if TYPE_CHECKING:
    from aicrc.api import Library, RawCriterion
    from aicrc.cluster.collectors.k8s_cluster import ClusterSource
    from aicrc.cluster.infer import Inferred
    from aicrc.cluster.snapshot import Snapshot
    from aicrc.cluster.storage import ConfigMapRef

DETAILS = """

Collectors: GPU.smi (nvidia-smi -q -x), GPU.nvml (NVML, with nvidia-ml-py installed), OS.grub
(/proc/cmdline), OS.sysctl (/proc/sys but net), OS.kmod (/proc/modules), OS.release (os-release),
SystemD.containerd.service and SystemD.kubelet.service (systemctl show UNIT), and, read from the
Kubernetes API, K8s.server (version), K8s.image (images of all pods), K8s.policy (the GPU
Operator's ClusterPolicy spec), K8s.node (this node when it is in the cluster, else the first GPU
node by name; with node-count and gpu-node-count) and K8s.helm (Helm releases). The API calls only
read: RBAC needs list on nodes, pods, secrets (for Helm) and clusterpolicies.nvidia.com.

A collector that cannot run is written with no data and `context: {skipped: WHY}`, and noted on
stderr; the snapshot itself never fails for it. A request the API server denies (403), an API group
it does not serve (404: the GPU Operator not installed) or a request it does not answer in
--request-timeout skips that subtype alone.

Which cluster: the one --kubeconfig/--context name; else $KUBECONFIG, ~/.kube/config, or the pod's
service account when run in a pod. A cluster named on the command line that cannot be measured at
all (kubeconfig unreadable, context missing, server unreachable or silent, credentials refused) is
an error (E0910, exit 2, nothing written). One found without being named that cannot be reached
skips the K8s subtypes with why, as does finding none, --no-kubernetes, or --root without
--kubeconfig or --context.

With --root DIR, files are read under DIR and commands' outputs from DIR/commands/:
nvidia-smi-q-x.xml, systemctl-show-containerd.service.txt, systemctl-show-kubelet.service.txt.

Where it goes: stdout, -o FILE, or -o cm://NAMESPACE/NAME, a ConfigMap of the cluster, written by
server-side apply as the reference stores a snapshot (key snapshot.yaml, or snapshot.json with
--format json), so that each tool reads the other's. Every --snapshot (compile, explain, query,
stats, validate) reads cm://NAMESPACE/NAME too.

--agent takes the snapshot in the cluster rather than here: it deploys a Job on a GPU node
(--node-selector, default nvidia.com/gpu.present=true; --toleration, default every taint) running
`aicrc snapshot -o cm://...` in --image, as a ServiceAccount that may write that one ConfigMap and
list nodes, pods and ClusterPolicies (no Secrets, so no K8s.helm); waits for the Job (--timeout),
reads the ConfigMap, writes the snapshot where -o says, then deletes the Job with its pod, the
ServiceAccount, its RBAC objects and the ConfigMap it used (unless -o named it), even when the Job
failed; --no-cleanup keeps them all. Nothing is written to a cluster without --agent or -o cm://."""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "snapshot",
        "measure this node into a Snapshot (the reference system's format)",
        handler=run,
        step="taking the snapshot",
        details=DETAILS,
        epilog=exit_codes(
            one="cannot write the output file",
            two="usage error: the command line is wrong (--root is not a folder);\n"
            "       or the cluster --kubeconfig/--context names cannot be measured (E0910);\n"
            "       or -o cm:// or --agent failed: the cluster refused, the agent Job failed or timed out (E0910, E0915-E0919)",
        ),
    )
    parser.add_argument("--root", metavar="DIR", help="read a tree copied from a node instead of this machine (no commands are run)")
    add_cluster_options(parser)
    parser.add_argument("--no-kubernetes", action="store_true", help="measure the node only: no Kubernetes API request at all")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write here instead of stdout; cm://NAMESPACE/NAME: a ConfigMap of the cluster"
    )
    add_format_option(parser, "yaml", "json", "table", help="output format (default yaml); table is for reading, not for reading back")
    parser.add_argument("--agent", action="store_true", help="take the snapshot in the cluster, by a Job on a GPU node (see above)")
    parser.add_argument("--image", metavar="IMAGE", help="the agent's image (default ghcr.io/aicrc/aicrc:VERSION, this aicrc's version)")
    parser.add_argument("--namespace", metavar="NAME", help="where the agent runs (default the namespace of -o cm://, else default)")
    parser.add_argument(
        "--node-selector",
        action="append",
        metavar="KEY=VALUE",
        help="a label of the node to run on (repeatable; default nvidia.com/gpu.present=true)",
    )
    parser.add_argument(
        "--toleration", action="append", metavar="KEY[=VALUE]:EFFECT", help="a taint the agent tolerates (repeatable; default every taint)"
    )
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="how long to wait for the agent Job (default 300)")
    parser.add_argument(
        "--no-cleanup", action="store_true", help="leave the agent's Job, ServiceAccount, RBAC and ConfigMap in the cluster"
    )


def run(args: argparse.Namespace) -> ExitCode:
    from pathlib import Path

    from aicrc import diagnostics as diag
    from aicrc.cli.output import report_error, write_output
    from aicrc.cluster.collectors import COLLECTORS
    from aicrc.cluster.collectors.base import Sources
    from aicrc.cluster.collectors.node import NodeSource
    from aicrc.cluster.kube import KubeError
    from aicrc.cluster.snapshotter import take_snapshot
    from aicrc.cluster.write import render

    root = Path(args.root) if args.root is not None else None
    if root is not None and not root.is_dir():
        raise UsageError(f"--root {args.root}: not a folder")
    try:
        output = _configmap_output(args)
    except diag.AicrcError as failure:  # -o cm:// that names no ConfigMap: the command line is wrong
        report_error(failure, args.format)
        return ExitCode.USAGE_ERROR
    if args.agent:
        return _snapshot_by_agent(args, output)
    _refuse_agent_options(args)
    try:
        cluster = _cluster(args, measuring_root=root is not None)
    except KubeError as failure:  # the cluster the command line names cannot be measured at all
        report_error(failure.as_error(), args.format)
        return ExitCode.COULD_NOT_RUN
    snapshot = take_snapshot(Sources(NodeSource(root), cluster), COLLECTORS)
    if output is not None:
        from aicrc.cli.options import cluster_target
        from aicrc.cluster.storage import connect, write_configmap

        try:
            write_configmap(connect(cluster_target(args)), output, snapshot, args.format)
        except diag.AicrcError as failure:
            report_error(failure, args.format)
            return ExitCode.COULD_NOT_RUN
    else:
        write_output(render(snapshot, args.format), args.output)
    _note_skipped(snapshot)
    return ExitCode.OK


def _note_skipped(snapshot: Snapshot) -> None:
    skipped: dict[str, list[str]] = {}  # why -> the subtypes skipped for it (all K8s ones, for want of a cluster)
    for measurement in snapshot.measurements:
        for subtype in measurement.subtypes:
            if subtype.skipped:
                skipped.setdefault(subtype.skipped, []).append(f"{measurement.type}.{subtype.name}")
    for why, names in skipped.items():
        print(f"note: {', '.join(names)} skipped: {why}", file=sys.stderr)


def _configmap_output(args: argparse.Namespace) -> ConfigMapRef | None:
    """The ConfigMap -o names (cm://NAMESPACE/NAME), or None for a file or stdout."""
    from aicrc.cluster.storage import is_configmap, parse_configmap_uri

    if args.output is None or not is_configmap(args.output):
        return None
    if args.format == "table":
        raise UsageError("-o cm://: a ConfigMap holds a snapshot to read back, in --format yaml or json, not a table")
    if args.no_kubernetes:
        raise UsageError("-o cm:// writes to the cluster, which --no-kubernetes forbids: leave out one or the other")
    return parse_configmap_uri(args.output)


def _refuse_agent_options(args: argparse.Namespace) -> None:
    flags = {"--image": args.image, "--namespace": args.namespace, "--node-selector": args.node_selector}
    flags |= {"--toleration": args.toleration, "--timeout": args.timeout, "--no-cleanup": args.no_cleanup or None}
    given = [flag for flag, value in flags.items() if value is not None]
    if given:
        raise UsageError(f"{', '.join(given)}: only with --agent, which deploys the Job they configure")


def _snapshot_by_agent(args: argparse.Namespace, output: ConfigMapRef | None) -> ExitCode:
    """The snapshot an agent Job takes in the cluster, written where -o says; the Job and its RBAC
    deleted whatever happens (unless --no-cleanup), and what is left said."""
    from aicrc import diagnostics as diag
    from aicrc.cli.options import cluster_target
    from aicrc.cli.output import report_error, write_output
    from aicrc.cluster import agent_job
    from aicrc.cluster.agent import Agent
    from aicrc.cluster.storage import ConfigMapRef, connect, is_namespace
    from aicrc.cluster.write import render

    if args.root is not None or args.no_kubernetes:
        raise UsageError("--agent takes the snapshot in the cluster: leave out --root and --no-kubernetes")
    namespace = args.namespace or (output.namespace if output is not None else agent_job.DEFAULT_NAMESPACE)
    if not is_namespace(namespace):
        raise UsageError(f"--namespace {namespace}: not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)")
    timeout = agent_job.DEFAULT_TIMEOUT_S if args.timeout is None else args.timeout
    if not timeout > 0:
        raise UsageError(f"--timeout {timeout:g}: must be more than 0 seconds")
    config = agent_job.AgentConfig(
        output=output or ConfigMapRef(namespace, agent_job.DEFAULT_NAME),
        scratch=output is None,
        image=args.image or agent_job.DEFAULT_IMAGE,
        namespace=namespace,
        node_selector=_node_selector(args.node_selector) or agent_job.DEFAULT_NODE_SELECTOR,
        tolerations=_tolerations(args.toleration) or agent_job.TOLERATE_ALL,
        output_format=args.format if output is not None else "yaml",  # its own ConfigMap is read back here, then written in --format
        timeout=timeout,
        cleanup=not args.no_cleanup,
    )
    target = cluster_target(args)
    agent = None
    try:
        try:
            agent = Agent(connect(target), config, _progress())
            agent.deploy()
            agent.wait()
            snapshot = agent.read()
        except diag.AicrcError as failure:
            report_error(failure, args.format)
            return ExitCode.COULD_NOT_RUN
        if output is None:
            write_output(render(snapshot, args.format), args.output)
        else:
            print(f"note: the agent on {snapshot.metadata.get('source-node') or 'its node'} wrote {output.uri}", file=sys.stderr)
        _note_skipped(snapshot)
    finally:
        if agent is not None:
            agent.cleanup()
            _note_left(agent.left, cleanup=config.cleanup)
    return ExitCode.OK


# --node-selector and --toleration read as `aicrc bundle` reads its placement flags.
def _node_selector(texts: list[str] | None) -> dict[str, str]:
    from aicrc.bundle.placement import parse_selectors

    try:
        return parse_selectors("--node-selector", texts or [])
    except ValueError as problem:
        raise UsageError(str(problem)) from None


def _tolerations(texts: list[str] | None) -> tuple[dict[str, str], ...]:
    from aicrc.bundle.placement import parse_tolerations

    try:
        return tuple(toleration.as_values() for toleration in parse_tolerations("--toleration", texts or []))
    except ValueError as problem:
        raise UsageError(str(problem)) from None


def _progress() -> Callable[[str], None]:
    """What the agent is doing, on stderr, for a person watching a terminal; nothing in a pipe or a log."""
    if not sys.stderr.isatty():
        return lambda _: None
    return lambda text: print(f"agent: {text}", file=sys.stderr, flush=True)


def _note_left(left: Sequence[str], *, cleanup: bool) -> None:
    if not left:
        return
    if cleanup:
        print("warning: cleanup could not delete these; delete them yourself:", file=sys.stderr)
    else:
        print("note: --no-cleanup left these in the cluster; delete them with:", file=sys.stderr)
    print("\n".join(f"  {line}" for line in left), file=sys.stderr)


def _cluster(args: argparse.Namespace, *, measuring_root: bool) -> ClusterSource:
    """The cluster to measure, connected, or why none is; a KubeError when the cluster the command
    line names (--kubeconfig, --context) cannot be measured at all. One found without being named
    ($KUBECONFIG, ~/.kube/config, a pod's service account) that cannot be reached is only noted: a
    snapshot of a node must not fail for a cluster nobody asked about."""
    from aicrc.cli.options import cluster_target
    from aicrc.cluster.collectors.k8s_cluster import ClusterSource, ambient_cluster
    from aicrc.cluster.kube import KubeError

    named = args.kubeconfig is not None or args.context is not None
    if args.no_kubernetes:
        if named:
            raise UsageError("--no-kubernetes measures no cluster: leave out --kubeconfig and --context, or --no-kubernetes")
        return ClusterSource.absent("not measured (--no-kubernetes)")
    target = cluster_target(args)
    if not named and measuring_root:
        return ClusterSource.absent("--root measures a tree copied from a node; give --kubeconfig to measure its cluster too")
    if not named and not ambient_cluster():
        return ClusterSource.absent("no cluster: no --kubeconfig, $KUBECONFIG or ~/.kube/config, and not in a pod")
    try:
        return ClusterSource.connect(target)
    except KubeError as failure:
        if named:
            raise
        return ClusterSource.absent(f"cannot {failure.what}: {failure.detail}")


def criteria_from_snapshot(
    snapshot: Snapshot, shown: str, library: Library, given: Iterable[RawCriterion], *, report: bool = True
) -> list[RawCriterion]:
    """The criteria a snapshot implies, for the dimensions `given` leaves open (criteria given on the
    command line or in --criteria override the snapshot). Each says which reading chose it; with
    `report`, they are listed on stderr, with the ones given instead."""
    from aicrc.api import RawCriterion
    from aicrc.cluster.infer import infer_criteria

    names = {name: {*definition.values, *definition.aliases} for name, definition in library.program.dimensions.items()}
    inferred = infer_criteria(snapshot, names)
    explicit = {criterion.dimension.lower(): criterion for criterion in given}
    if report:
        _report(shown, inferred, explicit, names)
    return [RawCriterion(i.dimension, i.value, where=i.where) for i in inferred if i.dimension not in explicit]


def _report(shown: str, inferred: Sequence[Inferred], explicit: dict[str, RawCriterion], names: Iterable[str]) -> None:
    from aicrc.cluster.display import one_line
    from aicrc.cluster.infer import INFERABLE

    lines = [f"note: criteria from the snapshot {shown}"]
    for item in inferred:
        given = explicit.get(item.dimension)
        chosen = f"{item.dimension} = {item.value}"
        if given is not None:
            lines.append(f"  {item.dimension} = {given.value}  given by {given.where or '--criteria'}, not {one_line(item.where)}")
        else:
            lines.append(f"  {chosen}  from {one_line(item.where)}")
    found = {item.dimension for item in inferred}
    missing = [name for name in INFERABLE if name in names and name not in found and name not in explicit]
    if missing:
        lines.append(f"  not in the snapshot: {', '.join(missing)}")
    print("\n".join(lines), file=sys.stderr)
