"""Taking a snapshot: run each collector, and write what it read, or why it could not, into a
Snapshot document. Measurements are written in the order their first collector runs, subtypes in
collector order, so two snapshots of the same node differ only where the node does."""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence

from aicrc.cluster.collectors.base import Collector, SkipError, Sources
from aicrc.cluster.snapshot import API_VERSION, KIND, SKIPPED, Measurement, Snapshot, Subtype
from aicrc.version import __version__

# Where the node's name comes from on a live node, in the reference's order (the first is set by
# the Kubernetes Downward API in the agent Job).
NODE_NAME_VARIABLES = ("NODE_NAME", "KUBERNETES_NODE_NAME", "HOSTNAME")
HOSTNAME = "/proc/sys/kernel/hostname"


def take_snapshot(sources: Sources, collectors: Sequence[Collector], *, now: datetime.datetime | None = None) -> Snapshot:
    subtypes: dict[str, list[Subtype]] = {}
    for collector in collectors:
        try:
            subtype = Subtype(subtype=collector.subtype, data=collector.collect(sources))
        except SkipError as why:
            subtype = Subtype(subtype=collector.subtype, context={SKIPPED: str(why)})
        subtypes.setdefault(collector.measurement, []).append(subtype)
    stamp = (now or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    metadata = {
        "source-node": _node_name(sources),
        "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": __version__,
        "generator": "aicrc",
    }
    if sources.node.root is not None:
        metadata["source-root"] = sources.node.root.as_posix()
    return Snapshot(
        kind=KIND,
        apiVersion=API_VERSION,
        metadata=metadata,
        measurements=[Measurement(type=type_, subtypes=found) for type_, found in subtypes.items()],
    )


def _node_name(sources: Sources) -> str:
    """The live node's name as the reference finds it, or the --root tree's hostname."""
    if sources.node.live:
        return next((os.environ[name] for name in NODE_NAME_VARIABLES if os.environ.get(name)), "")
    try:
        return sources.node.read_text(HOSTNAME).strip()
    except SkipError:
        return ""
