"""What every collector is: a function from the sources it may read to the readings of one
subtype of one measurement (`OS.sysctl`, `GPU.smi`), or a `SkipError` saying why it could not run.

A collector that cannot run never fails the snapshot: its subtype is written with no data and
`context: {skipped: WHY}`. Anything else it raises is a bug in aicrc.
"""

from __future__ import annotations

from collections.abc import Callable

from aicrc.cluster.collectors.node import NodeSource
from aicrc.cluster.collectors.skip import SkipError
from aicrc.cluster.snapshot import Readings
from aicrc.records import Record

__all__ = ["Collector", "SkipError", "Sources"]


class Sources(Record):
    """Where collectors read from. The node's files and commands now; the Kubernetes collectors of
    the next slice add the API server here, and read nothing else."""

    node: NodeSource


class Collector(Record):
    measurement: str  # the measurement type: K8s, GPU, OS, SystemD, NodeTopology
    subtype: str
    collect: Callable[[Sources], Readings]
