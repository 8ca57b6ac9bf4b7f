"""The readiness phase: every constraint of a compiled recipe (`constraints`), checked against a
snapshot before anything is deployed.

A constraint whose measurement the snapshot lacks is *skipped*, never passed: the reference logs
and ignores it, which lets a snapshot without a Kubernetes measurement pass a Kubernetes version
requirement; here it is reported, and only a run where every constraint was checked and held
passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, TypeAlias

from aicrc.cluster.snapshot import reading_text
from aicrc.cluster.versions import evaluate
from aicrc.records import Record

if TYPE_CHECKING:
    from aicrc.cluster.snapshot import Snapshot
    from aicrc.compiler.emit.model import CompiledRecipe, Constraint

Status: TypeAlias = Literal["passed", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "skipped")


class Result(Record):
    """One constraint checked: `name operator expected`, what was measured, and the verdict."""

    name: str
    operator: str
    expected: str
    layer: str
    status: Status
    actual: str | None  # None when the snapshot has no such reading
    message: str

    @property
    def title(self) -> str:
        return f"{self.name} {self.operator} {self.expected}"


class Report(Record):
    """A phase's results, with what was checked against what."""

    phase: str
    recipe: str
    criteria: dict[str, str]
    snapshot: str  # the snapshot file, as named on the command line
    source_node: str
    results: tuple[Result, ...]

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status == status)

    @property
    def passed(self) -> bool:
        return all(result.status == "passed" for result in self.results)


def check_readiness(recipe: CompiledRecipe, snapshot: Snapshot, snapshot_name: str) -> Report:
    return Report(
        phase="readiness",
        recipe=recipe.metadata.name,
        criteria=dict(recipe.metadata.criteria),
        snapshot=snapshot_name,
        source_node=snapshot.metadata.get("source-node", ""),
        results=tuple(check(constraint, snapshot) for constraint in recipe.constraints),
    )


def check(constraint: Constraint, snapshot: Snapshot) -> Result:
    expected = reading_text(constraint.value).strip()
    found = snapshot.lookup(constraint.name)

    def result(status: Status, actual: str | None, message: str) -> Result:
        return Result(constraint.name, constraint.operator, expected, constraint.layer, status, actual, message)

    if found.value is None:
        return result("skipped", None, f"not measured: {found.absent}")
    actual = reading_text(found.value)
    outcome = evaluate(constraint.operator, expected, actual)
    if outcome.problem:
        return result("failed", actual, f"cannot compare: {outcome.problem}")
    if outcome.passed:
        return result("passed", actual, f"{actual} {constraint.operator} {expected}")
    return result("failed", actual, f"expected {constraint.operator} {expected}, measured {actual}")


def summary(results: Sequence[Result]) -> str:
    counts = {status: sum(1 for result in results if result.status == status) for status in STATUSES}
    return ", ".join(f"{count} {status}" for status, count in counts.items())
