"""What evaluation produces: the resolved recipe, before dependency solving."""

from __future__ import annotations

from typing import Any

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.criteria import RawCriterion
from aicrc.compiler.evaluate.values import Contribution, Origin, Path
from aicrc.compiler.syntax import ast
from aicrc.records import Record
from aicrc.source import Span


class AppliedLayer(Record):
    name: str
    kind: str
    specificity: int
    span: Span | None


class Manifest(Record):
    name: str  # the file as shown to users, e.g. stdlib/components/manifests/runtime.yaml
    content: str


class ResolvedComponent(Record):
    name: str
    definition: ast.Component
    kind: str
    namespace: str
    values: dict[str, Any]
    history: dict[Path, list[Contribution]]
    needs: dict[str, Span]  # dependency -> where it was declared
    manifests: list[Manifest]

    @property
    def chart(self) -> ast.Chart | None:
        return self.definition.chart


class Constraint(Record):
    """`require PATH OP VALUE`: something the cluster must measure up to before deployment; or,
    with a phase, what that validation phase's checks must measure."""

    name: str
    operator: str
    value: Any
    origin: Origin


class Resolved(Record):
    recipe: str
    criteria: dict[str, str]
    layers: list[AppliedLayer]
    components: dict[str, ResolvedComponent]
    dropped: dict[str, Span | None]  # components removed by `drop`, for "still needed" errors
    constraints: list[Constraint]
    checks: dict[str, list[str]]
    check_constraints: dict[str, list[Constraint]]  # by validation phase
    warnings: list[diag.Diagnostic]
    # The criterion that bound each dimension as given (recipe, flag, file, snapshot); a bound
    # dimension without one took its default. `aicrc explain` names them.
    given: dict[str, RawCriterion]
