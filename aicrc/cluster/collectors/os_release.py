"""OS.release: the node's os-release file (ID, VERSION_ID, PRETTY_NAME, ...), read as the reference
reads it: `/etc/os-release`, or `/usr/lib/os-release` where that is absent (the freedesktop.org
rule); `KEY=VALUE` lines, quotes trimmed from both ends of values, comments and empty values
left out."""

from __future__ import annotations

from aicrc.cluster.collectors.base import Collector, SkipError, Sources
from aicrc.cluster.collectors.text import lines
from aicrc.cluster.snapshot import Readings

PRIMARY, FALLBACK = "/etc/os-release", "/usr/lib/os-release"


def collect(sources: Sources) -> Readings:
    try:
        text = sources.node.read_text(PRIMARY)
    except SkipError as primary:
        try:
            text = sources.node.read_text(FALLBACK)
        except SkipError as fallback:
            raise SkipError(f"{primary}; {fallback}") from None
    readings: Readings = {}
    for line in lines(text):
        key, equals, value = line.partition("=")
        value = value.strip().strip("\"'")
        if equals and value:
            readings[key.strip()] = value
    return readings


COLLECTOR = Collector("OS", "release", collect)
