"""Comparing what aicrc compiles for a leaf with what the reference system (AICR v0.11.1) resolved
for it (tests/reference/aicr-v0.11.1/), as a list of differences that deviations.yaml declares.

Every difference is named by (component, path), the form deviations.yaml uses:
- a component the reference has and aicrc lacks, or whose chart differs: (COMPONENT, "");
- a Helm value: (COMPONENT, "dotted.value.path"), type-strict (`true` is not `1`; lists and empty
  maps are leaves);
- a cluster constraint: ("constraints", NAME);
- a validation check: ("checks", "PHASE.CHECK"), and a check's constraint: ("checks", "PHASE.constraints.NAME").
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aicrc.compiler.evaluate.values import leaf_paths, same
from aicrc.compiler.syntax.ast import format_path

REFERENCE = Path(__file__).resolve().parent / "reference" / "aicr-v0.11.1"
DEVIATIONS = Path(__file__).resolve().parent / "reference" / "deviations.yaml"


@dataclass(frozen=True)
class Difference:
    leaf: str
    component: str
    path: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.component}.{self.path}" if self.path else self.component
        return f"{self.leaf}: {where}: {self.detail}"


@dataclass(frozen=True)
class Deviation:
    component: str
    path: str
    leaves: str
    reason: str
    source: str

    def covers(self, difference: Difference) -> bool:
        if self.component != difference.component or not fnmatch.fnmatchcase(difference.leaf, self.leaves):
            return False
        return self.path == "" or difference.path == self.path or difference.path.startswith(self.path + ".")


def leaves() -> dict[str, dict[str, str]]:
    """Leaf name -> its criteria, every dimension it does not name `any` (as the reference reads it)."""
    found = {}
    for line in (REFERENCE / "leaves.tsv").read_text().splitlines():
        name, flags = line.split("\t")
        words = flags.split()
        criteria = {"service": "any", "accelerator": "any", "os": "any", "intent": "any", "platform": "any"}
        criteria.update({flag.removeprefix("--"): value for flag, value in zip(words[::2], words[1::2], strict=True)})
        found[name] = criteria
    return found


def read_deviations() -> list[Deviation]:
    entries = yaml.safe_load(DEVIATIONS.read_text()) or []
    return [Deviation(e["component"], e["path"], e["leaves"], e["reason"], e["source"]) for e in entries]


def compare(leaf: str, compiled: dict[str, Any]) -> list[Difference]:
    recipe = yaml.safe_load((REFERENCE / "recipe" / f"{leaf}.yaml").read_text())
    query = json.loads((REFERENCE / "query" / f"{leaf}.json").read_text())
    differences: list[Difference] = []

    def differ(component: str, path: str, detail: str) -> None:
        differences.append(Difference(leaf, component, path, detail))

    ours = {c["name"]: c for c in compiled["components"]}
    theirs_values = {name: c.get("values") or {} for name, c in query["components"].items()}
    for name in sorted(ours.keys() - {ref["name"] for ref in recipe["componentRefs"]}):
        differ(name, "", "aicrc installs it; the reference does not")
    for ref in recipe["componentRefs"]:
        name = ref["name"]
        mine = ours.get(name)
        if mine is None:
            differ(name, "", "the reference installs it; aicrc does not")
            continue
        chart = mine.get("chart") or {}
        for field, ours_value, theirs in (
            ("chart", chart.get("name", ""), ref.get("chart", "")),
            ("source", chart.get("repository", ""), ref.get("source", "")),
            ("version", chart.get("version", ""), ref.get("version", "")),
        ):
            if ours_value != theirs:
                differ(name, "", f"{field}: aicrc {ours_value!r}, reference {theirs!r}")
        mine_leaves = leaf_paths(mine["values"])
        theirs_leaves = leaf_paths(theirs_values.get(name, {}))
        for path in sorted(mine_leaves.keys() | theirs_leaves.keys()):
            dotted = format_path(path)
            if path not in mine_leaves:
                differ(name, dotted, f"aicrc has no value; reference {json.dumps(theirs_leaves[path])}")
            elif path not in theirs_leaves:
                differ(name, dotted, f"aicrc {json.dumps(mine_leaves[path])}; the reference has no value")
            elif not same(mine_leaves[path], theirs_leaves[path]):
                differ(name, dotted, f"aicrc {json.dumps(mine_leaves[path])}; reference {json.dumps(theirs_leaves[path])}")

    mine_constraints = {c["name"]: _constraint_text(c) for c in compiled["constraints"]}
    for constraint in recipe.get("constraints", []):
        name, value = constraint["name"], str(constraint["value"])
        if mine_constraints.get(name) != value:
            differ("constraints", name, f"aicrc {mine_constraints.get(name)!r}; reference {value!r}")

    for phase, body in (recipe.get("validation") or {}).items():
        mine_checks = set(compiled["checks"].get(phase, []))
        for check in body.get("checks", []):
            if check not in mine_checks:
                differ("checks", f"{phase}.{check}", "the reference runs it; aicrc does not list it")
        mine_phase_constraints = {c["name"]: _constraint_text(c) for c in compiled["checkConstraints"].get(phase, [])}
        for constraint in body.get("constraints") or []:
            name, value = constraint["name"], str(constraint["value"])
            if mine_phase_constraints.get(name) != value:
                differ("checks", f"{phase}.constraints.{name}", f"aicrc {mine_phase_constraints.get(name)!r}; reference {value!r}")
    return differences


def _constraint_text(constraint: dict[str, Any]) -> str:
    value = constraint["value"]
    text = value if isinstance(value, str) else json.dumps(value)
    return text if constraint["operator"] == "==" else f"{constraint['operator']} {text}"
