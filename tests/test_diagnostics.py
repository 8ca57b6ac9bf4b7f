from __future__ import annotations

import re

from aicrc import diagnostics as diag
from aicrc.source import SourceFile, Span
from aicrc.tools.lint import CODES as LINT_CODES
from tests.conftest import ROOT


def test_every_code_raised_is_declared_once() -> None:
    """Errors and warnings in `diagnostics.CODES`, lint findings in `lint.CODES`: every code the
    code raises is declared, and every declared code is raised somewhere."""
    declared = set(diag.CODES) | set(LINT_CODES)
    used = set()
    for path in (ROOT / "aicrc").rglob("*.py"):
        if path.name != "diagnostics.py" and path != ROOT / "aicrc" / "lint" / "__init__.py":
            used |= set(re.findall(r'"([EWL]\d{4})"', path.read_text()))
    assert used == declared


def test_render_has_location_source_line_caret_labels_and_help() -> None:
    source = SourceFile("f.aicr", "layer a: base {\n  use gpu-operater\n}\n")
    problem = diag.Diagnostic(
        "E0301",
        "unknown component `gpu-operater`",
        Span("f.aicr", 2, 7, 2, 19),
        labels=(diag.Label(Span("f.aicr", 1, 7, 1, 8), "in this layer"),),
        notes=("a note",),
        help="did you mean `gpu-operator`?",
    )
    assert diag.render(problem, {"f.aicr": source}) == (
        "error[E0301]: unknown component `gpu-operater`\n"
        " --> f.aicr:2:7\n"
        "  |\n"
        "2 |   use gpu-operater\n"
        "  |       ^^^^^^^^^^^^\n"
        " --> f.aicr:1:7\n"
        "  |\n"
        "1 | layer a: base {\n"
        "  |       - in this layer\n"
        "  = note: a note\n"
        "  = help: did you mean `gpu-operator`?"
    )
    assert "\x1b[31m" in diag.render(problem, {"f.aicr": source}, color=True)


def test_errors_sort_in_source_order() -> None:
    late = diag.Diagnostic("E0301", "b", Span("f", 9, 1, 9, 2))
    early = diag.Diagnostic("E0301", "a", Span("f", 2, 5, 2, 6))
    assert [d.message for d in diag.AicrcError([late, early]).diagnostics] == ["a", "b"]
