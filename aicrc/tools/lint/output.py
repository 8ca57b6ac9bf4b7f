"""`aicrc check` output: text (like compile errors), JSON, and SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
from typing import Any

from aicrc import diagnostics as diag
from aicrc.tools.lint import CODES
from aicrc.tools.lint.run import Report
from aicrc.version import __version__

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render_text(report: Report, *, color: bool = False) -> str:
    everything = [*report.failures, *report.findings]
    parts = [diag.render(d, report.sources, color=color) for d in everything[: diag.MAX_RENDERED]]
    if len(everything) > diag.MAX_RENDERED:
        parts.append(f"... and {len(everything) - diag.MAX_RENDERED} more")
    summary = f"{len(report.findings)} finding(s) in {len(report.checked)} file(s) checked"
    if report.failures:
        summary += f"; {len(report.failures)} error(s) kept files from being checked"
    return "\n\n".join([*parts, summary]) + "\n"


def render_json(report: Report) -> str:
    data = {
        "findings": [d.to_dict() for d in report.findings],
        "errors": [d.to_dict() for d in report.failures],
        "checked": report.checked,
    }
    return json.dumps(data, indent=2) + "\n"


def render_sarif(report: Report) -> str:
    """One run of the `aicrc` tool; rule ids are the stable codes, locations are relative paths."""
    results = [_result(d) for d in [*report.failures, *report.findings] if d.code in CODES or d.severity == "error"]
    rules = [
        {
            "id": code,
            "name": name,
            "shortDescription": {"text": description},
            "defaultConfiguration": {"level": "warning"},
        }
        for code, (name, description) in CODES.items()
    ]
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "aicrc", "version": __version__, "rules": rules}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def _result(finding: diag.Diagnostic) -> dict[str, Any]:
    text = finding.message + (f" ({finding.help})" if finding.help else "")
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": "warning" if finding.severity == "warning" else "error",
        "message": {"text": text},
    }
    if finding.code in CODES:
        result["ruleIndex"] = list(CODES).index(finding.code)
    if finding.span is not None:
        result["locations"] = [_location(finding.span)]
    if finding.labels:
        result["relatedLocations"] = [
            {**_location(label.span), "id": number, "message": {"text": label.message}} for number, label in enumerate(finding.labels)
        ]
    return result


def _location(span: Any) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": span.file},
            "region": {"startLine": span.line, "startColumn": span.col, "endLine": span.end_line, "endColumn": span.end_col},
        }
    }
