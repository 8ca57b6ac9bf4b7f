"""The readiness phase: every constraint of a compiled recipe (`constraints`), checked against a
snapshot before anything is deployed.

A constraint whose measurement the snapshot lacks is *skipped*, never passed: the reference logs
and ignores it, which lets a snapshot without a Kubernetes measurement pass a Kubernetes version
requirement; here it is reported, and only a run where every constraint was checked and held
passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aicrc.cluster.report import Phase, Result, Status
from aicrc.cluster.snapshot import reading_text
from aicrc.cluster.versions import evaluate

if TYPE_CHECKING:
    from aicrc.cluster.snapshot import Snapshot
    from aicrc.compiler.emit.model import CompiledRecipe, Constraint


def check_readiness(recipe: CompiledRecipe, snapshot: Snapshot, snapshot_name: str) -> Phase:
    node = snapshot.metadata.get("source-node", "")
    return Phase(
        phase="readiness",
        against=f"{snapshot_name} (node {node})" if node else snapshot_name,
        results=tuple(check(constraint, snapshot) for constraint in recipe.constraints),
        note="the recipe has no constraints to check",
    )


def check(constraint: Constraint, snapshot: Snapshot) -> Result:
    expected = reading_text(constraint.value).strip()
    found = snapshot.lookup(constraint.name)

    def result(status: Status, actual: str | None, message: str) -> Result:
        return Result(
            constraint.name, status, message, operator=constraint.operator, expected=expected, actual=actual, layer=constraint.layer
        )

    if found.value is None:
        return result("skipped", None, f"not measured: {found.absent}")
    actual = reading_text(found.value)
    outcome = evaluate(constraint.operator, expected, actual)
    if outcome.problem:
        return result("failed", actual, f"cannot compare: {outcome.problem}")
    if outcome.passed:
        return result("passed", actual, f"{actual} {constraint.operator} {expected}")
    return result("failed", actual, f"expected {constraint.operator} {expected}, measured {actual}")
