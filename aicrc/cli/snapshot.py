"""`aicrc snapshot`: measure this node (or a tree copied from one, `--root DIR`) into a Snapshot,
the reference system's document; and the criteria that compile, explain, query, stats and validate
infer from one (`--snapshot FILE`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_format_option
from aicrc.cli.parsing import Subparsers, UsageError, add_command

if TYPE_CHECKING:
    from aicrc.api import Library, RawCriterion
    from aicrc.cluster.infer import Inferred
    from aicrc.cluster.snapshot import Snapshot

DETAILS = """

Collectors: GPU.smi (nvidia-smi -q -x), GPU.nvml (NVML, with nvidia-ml-py installed), OS.grub
(/proc/cmdline), OS.sysctl (/proc/sys but net), OS.kmod (/proc/modules), OS.release (os-release).
A collector that cannot run is written with no data and `context: {skipped: WHY}`, and noted on
stderr; the snapshot itself never fails for it. With --root DIR, files are read under DIR and
nvidia-smi's output from DIR/commands/nvidia-smi-q-x.xml."""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "snapshot",
        "measure this node into a Snapshot (the reference system's format)",
        handler=run,
        step="taking the snapshot",
        details=DETAILS,
        epilog=exit_codes(one="cannot write the output file", two="usage error: the command line is wrong (--root is not a folder)"),
    )
    parser.add_argument("--root", metavar="DIR", help="read a tree copied from a node instead of this machine (no commands are run)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    add_format_option(parser, "yaml", "json", "table", help="output format (default yaml); table is for reading, not for reading back")


def run(args: argparse.Namespace) -> ExitCode:
    from pathlib import Path

    from aicrc.cli.output import write_output
    from aicrc.cluster.collectors import NODE_COLLECTORS
    from aicrc.cluster.collectors.base import Sources
    from aicrc.cluster.collectors.node import NodeSource
    from aicrc.cluster.snapshotter import take_snapshot
    from aicrc.cluster.write import render

    root = Path(args.root) if args.root is not None else None
    if root is not None and not root.is_dir():
        raise UsageError(f"--root {args.root}: not a folder")
    snapshot = take_snapshot(Sources(NodeSource(root)), NODE_COLLECTORS)
    write_output(render(snapshot, args.format), args.output)
    for measurement in snapshot.measurements:
        for subtype in measurement.subtypes:
            if subtype.skipped:
                print(f"note: {measurement.type}.{subtype.name} skipped: {subtype.skipped}", file=sys.stderr)
    return ExitCode.OK


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
