"""Taking a snapshot: run each collector, and write what it read, or why it could not, into a
Snapshot document. Measurements are written in the order their first collector runs, subtypes in
collector order, so two snapshots of the same node differ only where the node does."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from aicrc.cluster.collectors.base import Collector, SkipError, Sources
from aicrc.cluster.collectors.k8s_node import node_name
from aicrc.cluster.snapshot import API_VERSION, KIND, SKIPPED, Measurement, Snapshot, Subtype
from aicrc.version import __version__


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
        "source-node": node_name(sources.node),
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
