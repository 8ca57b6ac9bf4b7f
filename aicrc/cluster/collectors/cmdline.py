"""OS.grub: the kernel command line, from /proc/cmdline, one reading per parameter
(`console=ttyS0` reads `ttyS0`, a bare `quiet` reads ""). `root=` is left out, as the reference
leaves it out: it names the machine's disks."""

from __future__ import annotations

from aicrc.cluster.collectors.base import Collector, Sources
from aicrc.cluster.collectors.text import lines
from aicrc.cluster.snapshot import Readings

CMDLINE = "/proc/cmdline"
PRIVATE = frozenset({"root"})


def collect(sources: Sources) -> Readings:
    readings: Readings = {}
    for parameter in lines(sources.node.read_text(CMDLINE), " "):
        key, _, value = parameter.partition("=")
        if key.strip() not in PRIVATE:
            readings[key.strip()] = value.strip()
    return readings


# The subtype is named `grub` in the reference's format, though it reads what the kernel was given.
COLLECTOR = Collector("OS", "grub", collect)
