"""Validation results, one type for every phase, written for people and for tools: a table for the
terminal, JSON, CTRF JSON (the Common Test Report Format, which the reference's `aicr validate`
writes) and JUnit XML (which CI systems read).

A `Result` is one thing checked: a readiness constraint against a snapshot, or a deployment,
performance or conformance check against a cluster or a results file. A check says what it looked
at (`looked_at`), so a reader can tell a pass from a pass that saw nothing. A `Phase` holds one
phase's results and what they were checked against; a `Report` holds the phases a run checked.
"""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

from aicrc.cluster.display import one_line, xml_text
from aicrc.records import Record
from aicrc.version import __version__

Status: TypeAlias = Literal["passed", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "skipped")
PHASES = ("readiness", "deployment", "performance", "conformance")
CTRF_SPEC_VERSION = "0.0.0"  # the version the CTRF reference implementation (npm ctrf 0.3.0) writes
_ABSENT = "-"


class Result(Record):
    """One thing checked and its verdict. `operator` and `expected` are the recipe's constraint
    (empty for a check that measures none); `actual` is what was measured (None: nothing was)."""

    name: str  # the constraint (readiness) or the check (operator-health)
    status: Status
    message: str
    operator: str = ""
    expected: str = ""
    actual: str | None = None
    layer: str = ""  # the layer whose constraint this is
    constraint: str = ""  # the constraint's name, where a check measures one (Deployment.gpu-operator.version)
    looked_at: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.name} {self.operator} {self.expected}" if self.operator else self.name


class Phase(Record):
    """One phase's results, with what they were checked against; `note` says why the phase has
    nothing to report (the recipe lists no checks for it)."""

    phase: str
    against: str  # `tests/fixtures/snapshots/h200.yaml (node vm)`, `the cluster at https://...`
    results: tuple[Result, ...]
    note: str = ""

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status == status)

    @property
    def passed(self) -> bool:
        return all(result.status == "passed" for result in self.results)


class Report(Record):
    """What a run of `aicrc validate` checked: the recipe, and each phase it was asked for."""

    recipe: str
    criteria: dict[str, str]
    phases: tuple[Phase, ...]
    snapshot: str = ""  # the snapshot file, as named on the command line
    source_node: str = ""
    cluster: str = ""  # the API server checked

    @property
    def results(self) -> tuple[Result, ...]:
        return tuple(result for phase in self.phases for result in phase.results)

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status == status)

    @property
    def passed(self) -> bool:
        return all(result.status == "passed" for result in self.results)


def summary(results: Sequence[Result]) -> str:
    counts = {status: sum(1 for result in results if result.status == status) for status in STATUSES}
    return ", ".join(f"{count} {status}" for status, count in counts.items())


def render(report: Report, output_format: str, *, at: datetime.datetime | None = None) -> str:
    moment = (at or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    if output_format == "json":
        return json.dumps(to_data(report), indent=2, ensure_ascii=False) + "\n"
    if output_format == "ctrf":
        return json.dumps(ctrf(report, moment), indent=2, ensure_ascii=False) + "\n"
    if output_format == "junit":
        return junit(report, moment)
    return table(report)


def table(report: Report) -> str:
    """One block a phase: a heading, a row a result with the message of each that did not pass and
    what each check looked at beneath it, and the phase's counts; a total when there are phases."""
    criteria = ", ".join(f"{name}={value}" for name, value in report.criteria.items())
    blocks = [_phase_table(phase, f"{report.recipe} ({criteria})") for phase in report.phases]
    if len(report.phases) > 1:
        blocks.append(f"all phases: {summary(report.results)}\n")
    return "\n".join(blocks)


def _phase_table(phase: Phase, recipe: str) -> str:
    lines = [one_line(f"{phase.phase}: {recipe} against {phase.against}")]
    if not phase.results:
        return "\n".join([*lines, one_line(phase.note), ""])
    measured = any(result.operator for result in phase.results)
    heading = ("STATUS", "CONSTRAINT" if phase.phase == "readiness" else "CHECK", "EXPECTED", "MEASURED")
    rows = [
        tuple(
            one_line(cell)
            for cell in (
                result.status.upper(),
                result.name,
                f"{result.operator} {result.expected}" if result.operator else _ABSENT,
                result.actual or _ABSENT,
            )
        )
        for result in phase.results
    ]
    columns = 4 if measured else 2
    widths = [max(len(row[index]) for row in [heading, *rows]) for index in range(columns - 1)]
    indent = " " * widths[0]
    said = ""  # the message last printed: checks skipped for one reason (a cluster that did not answer) say it once
    for row, result in zip([heading, *rows], [None, *phase.results], strict=True):
        cells = [cell.ljust(width) for cell, width in zip(row[: columns - 1], widths, strict=True)]
        lines.append("  ".join([*cells, row[columns - 1]]).rstrip())
        if result is None:
            continue
        if result.status != "passed":
            lines.append(f"{indent}  {'(as above)' if result.message == said else one_line(result.message)}")
        said = result.message if result.status != "passed" and not result.looked_at else ""
        lines += [f"{indent}  looked at: {one_line(seen)}" for seen in result.looked_at]
    lines.append(summary(phase.results))
    return "\n".join(lines) + "\n"


def to_data(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = {
        "phase": report.phases[0].phase if len(report.phases) == 1 else "all",
        "recipe": report.recipe,
        "criteria": report.criteria,
    }
    if report.snapshot:
        data["snapshot"] = {"file": report.snapshot, "sourceNode": report.source_node}
    if report.cluster:
        data["cluster"] = {"server": report.cluster}
    data["phases"] = [
        {"phase": phase.phase, "against": phase.against, "note": phase.note, "summary": _counts(phase.results)} for phase in report.phases
    ]
    data["summary"] = _counts(report.results)
    data["results"] = [
        {
            "phase": phase.phase,
            "name": result.name,
            "operator": result.operator,
            "expected": result.expected,
            "actual": result.actual,
            "status": result.status,
            "message": result.message,
            "layer": result.layer,
            "lookedAt": list(result.looked_at),
        }
        for phase in report.phases
        for result in phase.results
    ]
    return data


def _counts(results: Sequence[Result]) -> dict[str, int]:
    return {status: sum(1 for result in results if result.status == status) for status in STATUSES}


def ctrf(report: Report, at: datetime.datetime) -> dict[str, Any]:
    """CTRF JSON: one test a result, in a suite named after its phase; the constraint's parts in
    `extra`, what a check looked at in `stdout`. Nothing is timed (the checks are reads that take
    milliseconds), so durations are 0."""
    millis = int(at.timestamp() * 1000)
    return {
        "reportFormat": "CTRF",
        "specVersion": CTRF_SPEC_VERSION,
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generatedBy": f"aicrc {__version__}",
        "results": {
            "tool": {"name": "aicrc", "version": __version__},
            "summary": {
                "tests": len(report.results),
                **_counts(report.results),
                "pending": 0,
                "other": 0,
                "start": millis,
                "stop": millis,
            },
            "tests": [_ctrf_test(phase.phase, result) for phase in report.phases for result in phase.results],
            "environment": {"appName": report.recipe, "testEnvironment": report.cluster or report.source_node or report.snapshot},
            "extra": {"criteria": report.criteria, "snapshot": report.snapshot, "cluster": report.cluster},
        },
    }


def _ctrf_test(phase: str, result: Result) -> dict[str, Any]:
    test: dict[str, Any] = {"name": result.title, "status": result.status, "duration": 0, "suite": [phase], "message": result.message}
    if result.operator:
        test["extra"] = {
            "constraint": result.constraint or result.name,
            "operator": result.operator,
            "expected": result.expected,
            "actual": result.actual,
            "layer": result.layer,
        }
    if result.looked_at:
        test["stdout"] = [f"looked at: {seen}" for seen in result.looked_at]
    return test


def junit(report: Report, at: datetime.datetime) -> str:
    """JUnit XML: one testsuite a phase, one testcase a result, failures and skips with their
    message, what a check looked at as its system-out."""
    suites = ElementTree.Element("testsuites", {"name": xml_text(f"aicrc validate {report.recipe}"), **_junit_counts(report.results)})
    for phase in report.phases:
        suite = ElementTree.SubElement(
            suites, "testsuite", {"name": phase.phase, **_junit_counts(phase.results), "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S")}
        )
        properties = ElementTree.SubElement(suite, "properties")
        for name, value in [("recipe", report.recipe), ("against", phase.against), *sorted(report.criteria.items())]:
            ElementTree.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
        if report.snapshot:  # named as before the cluster phases existed
            ElementTree.SubElement(properties, "property", {"name": "snapshot", "value": xml_text(report.snapshot)})
        for result in phase.results:
            name, message = xml_text(result.title), xml_text(result.message)
            case = ElementTree.SubElement(suite, "testcase", {"classname": f"{phase.phase}.{report.recipe}", "name": name, "time": "0"})
            if result.status == "failed":
                kind = "constraint" if result.operator else "check"
                ElementTree.SubElement(case, "failure", {"message": message, "type": kind}).text = message
            elif result.status == "skipped":
                ElementTree.SubElement(case, "skipped", {"message": message})
            if result.looked_at:
                ElementTree.SubElement(case, "system-out").text = "\n".join(xml_text(f"looked at: {seen}") for seen in result.looked_at)
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


def _junit_counts(results: Sequence[Result]) -> dict[str, str]:
    failed, skipped = (sum(1 for result in results if result.status == status) for status in ("failed", "skipped"))
    return {"tests": str(len(results)), "failures": str(failed), "errors": "0", "skipped": str(skipped), "time": "0"}
