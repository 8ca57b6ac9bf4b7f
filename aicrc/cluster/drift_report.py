"""A drift report for people (a table, one row per release, what differs beneath it) and for tools
(JSON). Every text from the cluster is shown on one line: a release's name or values may hold
control characters that would break a row or drive the terminal."""

from __future__ import annotations

import json
from typing import Any

from aicrc.cluster.display import one_line
from aicrc.cluster.drift import KINDS, DriftReport, Entry, Finding
from aicrc.cluster.helm_releases import Release

_ABSENT = "-"
_NOT_SET = "(not set)"


def render(report: DriftReport, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(to_data(report), indent=2, ensure_ascii=False) + "\n"
    return table(report)


def table(report: DriftReport) -> str:
    criteria = ", ".join(f"{name}={value}" for name, value in report.criteria.items())
    lines = [one_line(f"drift: {report.recipe} ({criteria}) against {report.source}")]
    if not report.entries:
        lines.append("the recipe installs no Helm release, and its namespaces hold none")
    else:
        heading = ("STATUS", "RELEASE", "RECIPE", "INSTALLED")
        rows = [tuple(one_line(cell) for cell in _row(entry)) for entry in report.entries]
        widths = [max(len(row[index]) for row in [heading, *rows]) for index in range(3)]
        indent = " " * (widths[0] + 2)
        for row, entry in zip([heading, *rows], [None, *report.entries], strict=True):
            lines.append(("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]).rstrip())
            for finding in entry.findings if entry is not None else ():
                lines += [indent + line for line in _finding_lines(finding)]
    lines += [f"note: {one_line(note)}" for note in report.notes]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def summary(report: DriftReport) -> str:
    ok = sum(1 for entry in report.entries if not entry.findings)
    counts = [f"{report.count(kind)} {kind}" for kind in KINDS if report.count(kind)]
    verdict = "drift found" if report.drifted else "no drift" if report.complete else "not everything could be checked"
    return f"{verdict}: {', '.join([f'{ok} ok', *counts])}"


def to_data(report: DriftReport) -> dict[str, Any]:
    return {
        "recipe": report.recipe,
        "criteria": report.criteria,
        "source": report.source,
        "drift": report.drifted,
        "complete": report.complete,
        "summary": {"ok": sum(1 for entry in report.entries if not entry.findings), **{kind: report.count(kind) for kind in KINDS}},
        "releases": [_entry_data(entry) for entry in report.entries],
        "notes": list(report.notes),
    }


# ---- internals -----------------------------------------------------------------------------------


def _row(entry: Entry) -> tuple[str, str, str, str]:
    return (
        entry.status,
        f"{entry.namespace}/{entry.name}",
        f"{entry.chart} {entry.version}" if entry.component else _ABSENT,
        _installed(entry.installed),
    )


def _installed(release: Release | None) -> str:
    if release is None:
        return _ABSENT
    chart = f"{release.chart} {release.version}".strip() or "unreadable"
    return f"{chart} ({release.status}, revision {release.revision})"


def _finding_lines(finding: Finding) -> list[str]:
    """The message, on one line; then each difference, whose path and values are JSON text, safe as it is."""
    lines = [one_line(finding.message)]
    for difference in finding.differences:
        recipe = difference.recipe if difference.recipe is not None else _NOT_SET
        installed = difference.installed if difference.installed is not None else _NOT_SET
        lines.append(f"  {difference.path}: recipe {recipe}, installed {installed}")
    if finding.more:
        lines.append(f"  ... and {finding.more} more")
    return lines


def _entry_data(entry: Entry) -> dict[str, Any]:
    release = entry.installed
    return {
        "name": entry.name,
        "namespace": entry.namespace,
        "recipe": {"component": entry.component, "chart": entry.chart, "version": entry.version} if entry.component else None,
        "installed": None
        if release is None
        else {
            "namespace": release.namespace,
            "chart": release.chart,
            "version": release.version,
            "appVersion": release.app_version,
            "status": release.status,
            "revision": release.revision,
            "problem": release.problem or None,
        },
        "status": entry.status,
        "findings": [
            {
                "kind": finding.kind,
                "message": finding.message,
                "differences": [
                    {"path": d.path, "change": d.change, "recipe": d.recipe, "installed": d.installed} for d in finding.differences
                ],
                "more": finding.more,
            }
            for finding in entry.findings
        ],
    }
