"""What every collector is: a function from the sources it may read to the readings of one
subtype of one measurement (`OS.sysctl`, `GPU.smi`), or a `SkipError` saying why it could not run.

A collector that cannot run never fails the snapshot: its subtype is written with no data and
`context: {skipped: WHY}`. Anything else it raises is a bug in aicrc. (Whether a cluster can be
measured at all is decided before the snapshot starts: see `k8s_cluster.py`.)
"""

from __future__ import annotations

from collections.abc import Callable

from aicrc.cluster.collectors.k8s_cluster import ClusterSource
from aicrc.cluster.collectors.node import NodeSource
from aicrc.cluster.collectors.skip import SkipError
from aicrc.cluster.snapshot import Readings
from aicrc.records import Record

__all__ = ["Collector", "SkipError", "Sources"]


NO_CLUSTER = ClusterSource.absent("no cluster was given to measure")


class Sources(Record):
    """Where collectors read from: the node's files and commands, and the cluster's API server."""

    node: NodeSource
    cluster: ClusterSource = NO_CLUSTER


class Collector(Record):
    measurement: str  # the measurement type: K8s, GPU, OS, SystemD, NodeTopology
    subtype: str
    collect: Callable[[Sources], Readings]
