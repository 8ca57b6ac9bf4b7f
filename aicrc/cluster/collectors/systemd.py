"""SystemD.UNIT: how the node's container runtime and kubelet run, as systemd reports them, one
subtype per unit named as the reference names it (`containerd.service`, `kubelet.service`).

The reference asks systemd over D-Bus for every property of the unit; aicrc reads the output of
`systemctl show UNIT` (no D-Bus library) and keeps the properties that describe how the unit is
set up: its state, where its unit file and drop-ins are, how it restarts and is killed, its cgroup
delegation, accounting and limits, who it runs as, its dependencies and sandboxing. The rest are
counters, timestamps and process IDs, which differ between two snapshots of the same node and would
only be noise to compare. Values are the text systemctl prints (`yes`, `infinity`, `-999`); an
empty one is left out, as systemctl itself leaves out unset properties. A unit that is not
installed reads `LoadState: not-found`.

Under --root, the output is the recorded `commands/systemctl-show-UNIT.txt`: the whole output of
`systemctl show UNIT` on the node, or of the same with `--property=` naming some properties.
"""

from __future__ import annotations

from aicrc.cluster.collectors.base import Collector, SkipError, Sources
from aicrc.cluster.snapshot import Readings

UNITS = ("containerd.service", "kubelet.service")
PROPERTIES = (
    # state, and where the unit's configuration comes from
    "LoadState",
    "ActiveState",
    "SubState",
    "UnitFileState",
    "FragmentPath",
    "DropInPaths",
    # how it runs
    "Type",
    "Restart",
    "KillMode",
    "Delegate",
    "Slice",
    "User",
    "Group",
    "WorkingDirectory",
    # resources: accounting and limits
    "CPUAccounting",
    "MemoryAccounting",
    "TasksAccounting",
    "MemoryMax",
    "TasksMax",
    "LimitNOFILE",
    "LimitNPROC",
    "LimitMEMLOCK",
    "LimitCORE",
    "OOMScoreAdjust",
    # dependencies
    "Wants",
    "Requires",
    "After",
    "Before",
    # sandboxing
    "ProtectSystem",
    "PrivateTmp",
    "NoNewPrivileges",
)


def command(unit: str) -> tuple[str, ...]:
    return ("systemctl", "show", unit)


def recorded(unit: str) -> str:
    return f"systemctl-show-{unit}.txt"


def readings(output: str, unit: str) -> Readings:
    """The PROPERTIES in the output of `systemctl show UNIT` (`NAME=VALUE` lines); a SkipError
    when it names none of them (it is not that output)."""
    found: Readings = {}
    for line in output.splitlines():
        name, equals, value = line.partition("=")
        if equals and value and name in PROPERTIES:
            found[name] = value
    if not found:
        raise SkipError(f"not the output of systemctl show {unit}: none of its lines is LoadState=, ActiveState= or the like")
    return found


def _collector(unit: str) -> Collector:
    def collect(sources: Sources) -> Readings:
        return readings(sources.node.run(command(unit), recorded(unit)), unit)

    return Collector("SystemD", unit, collect)


COLLECTORS = tuple(_collector(unit) for unit in UNITS)
