"""OS.sysctl: the kernel's parameters under /proc/sys, one reading per file, keyed by its path
(`/proc/sys/kernel/osrelease` holds the kernel release). As in the reference: /proc/sys/net is left
out (per-interface, and large), so are CD-ROM parameters and files that cannot be read; a file of
several `KEY VALUE` lines becomes one reading per line (`.../FILE/KEY`), any other file one
reading of its trimmed lines joined by newlines."""

from __future__ import annotations

from aicrc.cluster.collectors.base import Collector, SkipError, Sources
from aicrc.cluster.collectors.text import lines
from aicrc.cluster.snapshot import Readings

ROOT = "/proc/sys"
LEFT_OUT = ("/proc/sys/net/", "/proc/sys/dev/cdrom/")


def collect(sources: Sources) -> Readings:
    readings: Readings = {}
    for path in sources.node.files_under(ROOT):
        if path.startswith(LEFT_OUT):
            continue
        try:
            entries = lines(sources.node.read_text(path))
        except SkipError:  # write-only and restricted parameters, as the reference skips them
            continue
        pairs = [entry.split(None, 1) for entry in entries]
        if len(entries) > 1 and all(len(pair) == 2 for pair in pairs):
            readings.update({f"{path}/{key}": " ".join(value.split()) for key, value in pairs})
        else:
            readings[path] = "\n".join(entries)
    return readings


COLLECTOR = Collector("OS", "sysctl", collect)
