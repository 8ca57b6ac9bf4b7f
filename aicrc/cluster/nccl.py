"""The performance phase: NCCL all-reduce bandwidth between GPU nodes (check nccl-all-reduce-bw).

aicrc does not run the test itself (it writes nothing to a cluster): `nccl_job.job_manifest` writes
the objects that run it. `read_results` reads what nccl-tests' `all_reduce_perf` printed, and
`check_performance` holds its bandwidth to the recipe's threshold (`checkConstraints.performance`,
in GB/s).

The measure is the reference's: the out-of-place bus bandwidth at the largest message size, where
the fabric, not latency, sets the pace. The `# Avg bus bandwidth` line nccl-tests ends with averages
every size, tiny ones included, so it is shown but not judged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aicrc import diagnostics as diag
from aicrc.cluster.report import Phase, Result, Status
from aicrc.records import Record

if TYPE_CHECKING:
    from aicrc.compiler.emit.model import CompiledRecipe, Constraint

CHECK = "nccl-all-reduce-bw"
MAX_RESULTS_BYTES = 64 * 1024 * 1024
REFERENCE_TOLERANCE = 0.9  # the reference passes a run within 10% of its threshold


# ---- the results ----------------------------------------------------------------------------------


class Row(Record):
    """One message size of the table: its out-of-place bus bandwidth, and the wrong values both
    runs (out-of-place, in-place) found (None: nccl-tests did not check, `-c 0`)."""

    size: int
    bus_bandwidth: float
    wrong: int | None


class NcclRun(Record):
    source: str  # the file, as named on the command line
    rows: tuple[Row, ...]
    ranks: int
    average: float | None  # `# Avg bus bandwidth`
    out_of_bounds: int | None  # `# Out of bounds values : N OK`

    @property
    def largest(self) -> Row:
        return max(self.rows, key=lambda row: row.size)


_ROW = re.compile(
    r"^\s*(\d+)\s+(\d+)\s+\S+\s+\S+\s+-?\d+\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+(\d+|N/A)(?:\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(\d+|N/A))?"
)
_AVERAGE = re.compile(r"^#\s*Avg bus bandwidth\s*:\s*([\d.]+)", re.MULTILINE)
_OUT_OF_BOUNDS = re.compile(r"^#\s*Out of bounds values\s*:\s*(\d+)", re.MULTILINE)
_RANK = re.compile(r"^#\s+Rank\s+\d+\s", re.MULTILINE)


def read_results(path: Path, display: str) -> NcclRun:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RESULTS_BYTES + 1)
    except FileNotFoundError:
        raise diag.error(
            "E0104", f"no such file: {display}", help="save the first pod's log: see the comment atop the --nccl-job file"
        ) from None
    except OSError as failure:
        raise diag.error("E0104", f"cannot read {display}: {failure.strerror}") from None
    if len(data) > MAX_RESULTS_BYTES:
        raise diag.error("E0105", f"{display} is larger than {MAX_RESULTS_BYTES // (1024 * 1024)} MiB: not an all_reduce_perf log")
    return parse_results(data.decode("utf-8", "replace"), display)  # a log, not a source: bad bytes are not the point


def parse_results(text: str, display: str) -> NcclRun:
    rows = []
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            size, _, bandwidth, wrong_out, wrong_in = match.groups()
            wrongs = [int(w) for w in (wrong_out, wrong_in) if w and w != "N/A"]
            rows.append(Row(int(size), float(bandwidth), sum(wrongs) if wrongs else None))
    if not rows:
        raise diag.error(
            "E0920",
            f"{display} holds no all_reduce_perf results: no row of its table (`size count type redop root time algbw busbw #wrong ...`)",
            help="give the log of the NCCL Job's first pod (index 0), which prints the table",
        )
    average = _AVERAGE.search(text)
    bounds = _OUT_OF_BOUNDS.search(text)
    return NcclRun(
        display,
        tuple(rows),
        len(_RANK.findall(text)),
        float(average.group(1)) if average else None,
        int(bounds.group(1)) if bounds else None,
    )


# ---- the phase ------------------------------------------------------------------------------------


def check_performance(recipe: CompiledRecipe, run: NcclRun | None, against: str, how_to_measure: str) -> Phase:
    """The recipe's performance checks against the results of a run (None: none was given;
    `how_to_measure` says how to get one)."""
    results = []
    for name in recipe.checks.get("performance", []):
        if name != CHECK:
            results.append(Result(name, "skipped", f"aicrc has no performance check named {name} (it knows {CHECK})"))
            continue
        constraint = next((c for c in recipe.check_constraints.get("performance", []) if c.name == CHECK), None)
        results.append(_bandwidth(run, constraint, how_to_measure))
    return Phase("performance", against, tuple(results), note="the recipe lists no performance checks")


def _bandwidth(run: NcclRun | None, constraint: Constraint | None, how_to_measure: str) -> Result:
    looked_at = _described(run) if run else ()
    actual = f"{run.largest.bus_bandwidth:.2f} GB/s" if run else None

    def result(status: Status, message: str) -> Result:
        if constraint is None:
            return Result(CHECK, status, message, actual=actual, looked_at=looked_at)
        return Result(
            CHECK,
            status,
            message,
            operator=constraint.operator,
            expected=f"{str(constraint.value).strip()} GB/s",
            actual=actual,
            layer=constraint.layer,
            constraint=constraint.name,
            looked_at=looked_at,
        )

    if run is None:
        return result("skipped", f"not measured: {how_to_measure}")
    if constraint is None:
        return result("skipped", f"the recipe sets no {CHECK} threshold (checkConstraints.performance): nothing to hold {actual} to")
    wrong = sum(row.wrong or 0 for row in run.rows) + (run.out_of_bounds or 0)
    if wrong:
        return result("failed", f"the all-reduce returned {wrong} wrong values: a run that corrupts data measures nothing")
    threshold = _number(constraint.value)
    if threshold is None:
        return result("failed", f"cannot compare: the threshold {constraint.value!r} is not a number of GB/s")
    measured = run.largest.bus_bandwidth
    if _holds(measured, constraint.operator, threshold):
        return result("passed", f"{measured:.2f} GB/s {constraint.operator} {threshold:g} GB/s")
    lenient = constraint.operator in (">=", ">") and measured >= threshold * REFERENCE_TOLERANCE
    note = " (the reference passes a run within 10% of its threshold; aicrc holds to the recipe's number)" if lenient else ""
    return result("failed", f"expected {constraint.operator} {threshold:g} GB/s, measured {measured:.2f} GB/s{note}")


def _described(run: NcclRun) -> tuple[str, ...]:
    smallest = min(row.size for row in run.rows)
    lines = [
        f"{run.source}: {len(run.rows)} message sizes, {_size(smallest)} to {_size(run.largest.size)}, {run.ranks or 'unknown'} ranks",
        f"largest message {_size(run.largest.size)}: out-of-place bus bandwidth {run.largest.bus_bandwidth:.2f} GB/s (the measure)",
    ]
    if run.average is not None:
        lines.append(f"# Avg bus bandwidth {run.average:g} GB/s (over every size, small ones too: shown, not judged)")
    return tuple(lines)


def _size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def _number(value: Any) -> float | None:
    """The threshold as a number: `300`, `"300"`, `"300 GB/s"`, as the reference reads it."""
    match = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)", str(value))
    return float(match.group(1)) if match and not isinstance(value, bool) else None


def _holds(measured: float, operator: str, threshold: float) -> bool:
    return {
        ">=": measured >= threshold,
        ">": measured > threshold,
        "<=": measured <= threshold,
        "<": measured < threshold,
        "==": measured == threshold,
        "!=": measured != threshold,
    }[operator]
