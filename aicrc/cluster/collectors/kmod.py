"""OS.kmod: the loaded kernel modules, from /proc/modules: each module's name, reading `true`."""

from __future__ import annotations

from aicrc.cluster.collectors.base import Collector, Sources
from aicrc.cluster.collectors.text import lines
from aicrc.cluster.snapshot import Readings

MODULES = "/proc/modules"


def collect(sources: Sources) -> Readings:
    return {line.split()[0]: True for line in lines(sources.node.read_text(MODULES))}


COLLECTOR = Collector("OS", "kmod", collect)
