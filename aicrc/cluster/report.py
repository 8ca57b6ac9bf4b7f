"""A validation phase's results, written for people and for tools: a table for the terminal, JSON,
CTRF JSON (the Common Test Report Format, which the reference's `aicr validate` writes) and JUnit
XML (which CI systems read)."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ElementTree
from typing import Any

from aicrc.cluster.display import one_line, xml_text
from aicrc.cluster.readiness import STATUSES, Report, summary
from aicrc.version import __version__

CTRF_SPEC_VERSION = "0.0.0"  # the version the CTRF reference implementation (npm ctrf 0.3.0) writes
_ABSENT = "-"


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
    criteria = ", ".join(f"{name}={value}" for name, value in report.criteria.items())
    node = f" (node {report.source_node})" if report.source_node else ""
    lines = [one_line(f"{report.phase}: {report.recipe} ({criteria}) against {report.snapshot}{node}")]
    if not report.results:
        return "\n".join([*lines, "the recipe has no constraints to check", ""])
    rows = [
        tuple(
            one_line(cell)
            for cell in (result.status.upper(), result.name, f"{result.operator} {result.expected}", result.actual or _ABSENT)
        )
        for result in report.results
    ]
    heading = ("STATUS", "CONSTRAINT", "EXPECTED", "MEASURED")
    widths = [max(len(row[index]) for row in [heading, *rows]) for index in range(3)]
    for row, result in zip([heading, *rows], [None, *report.results], strict=True):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        lines.append(line.rstrip())
        if result is not None and result.status != "passed":
            lines.append(f"{'':{widths[0]}}  {one_line(result.message)}")
    lines.append(summary(report.results))
    return "\n".join(lines) + "\n"


def to_data(report: Report) -> dict[str, Any]:
    return {
        "phase": report.phase,
        "recipe": report.recipe,
        "criteria": report.criteria,
        "snapshot": {"file": report.snapshot, "sourceNode": report.source_node},
        "summary": {status: report.count(status) for status in STATUSES},
        "results": [
            {
                "name": result.name,
                "operator": result.operator,
                "expected": result.expected,
                "actual": result.actual,
                "status": result.status,
                "message": result.message,
                "layer": result.layer,
            }
            for result in report.results
        ],
    }


def ctrf(report: Report, at: datetime.datetime) -> dict[str, Any]:
    """CTRF JSON: one test a constraint, in a suite named after the phase; the constraint's parts in
    `extra`. Nothing is timed (a constraint is checked in microseconds), so durations are 0."""
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
                **{status: report.count(status) for status in STATUSES},
                "pending": 0,
                "other": 0,
                "start": millis,
                "stop": millis,
            },
            "tests": [
                {
                    "name": result.title,
                    "status": result.status,
                    "duration": 0,
                    "suite": [report.phase],
                    "message": result.message,
                    "extra": {
                        "constraint": result.name,
                        "operator": result.operator,
                        "expected": result.expected,
                        "actual": result.actual,
                        "layer": result.layer,
                    },
                }
                for result in report.results
            ],
            "environment": {"appName": report.recipe, "testEnvironment": report.source_node or report.snapshot},
            "extra": {"criteria": report.criteria, "snapshot": report.snapshot},
        },
    }


def junit(report: Report, at: datetime.datetime) -> str:
    """JUnit XML: one testsuite (the phase), one testcase a constraint, failures and skips with
    their message."""
    counts = {"tests": str(len(report.results)), "failures": str(report.count("failed")), "skipped": str(report.count("skipped"))}
    suites = ElementTree.Element("testsuites", {"name": xml_text(f"aicrc validate {report.recipe}"), **counts, "errors": "0", "time": "0"})
    suite = ElementTree.SubElement(
        suites,
        "testsuite",
        {"name": report.phase, **counts, "errors": "0", "time": "0", "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S")},
    )
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in [("recipe", report.recipe), ("snapshot", report.snapshot), *sorted(report.criteria.items())]:
        ElementTree.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    for result in report.results:
        name, message = xml_text(result.title), xml_text(result.message)
        case = ElementTree.SubElement(suite, "testcase", {"classname": f"{report.phase}.{report.recipe}", "name": name, "time": "0"})
        if result.status == "failed":
            ElementTree.SubElement(case, "failure", {"message": message, "type": "constraint"}).text = message
        elif result.status == "skipped":
            ElementTree.SubElement(case, "skipped", {"message": message})
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"
