from __future__ import annotations

import re
import time

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


def _errors(count: int, file: str = "f.aicr") -> list[diag.Diagnostic]:
    return [diag.Diagnostic("E0301", f"unknown component `c{n}`", Span(file, n, 5, n, 7)) for n in range(1, count + 1)]


def test_a_run_prints_at_most_fifty_errors_and_counts_the_rest() -> None:
    source = SourceFile("f.aicr", "".join(f"use c{n}\n" for n in range(1, 61)))
    text = diag.render_all(_errors(60), {"f.aicr": source})
    assert text.count("error[E0301]") == diag.MAX_RENDERED == 50
    assert "`c50`" in text and "`c51`" not in text
    assert text.endswith("\n\n... and 10 more errors\n\naborting: 60 errors")
    assert "more errors" not in diag.render_all(_errors(50), {"f.aicr": source})


def test_rendering_thousands_of_errors_in_a_big_file_is_linear() -> None:
    """Each diagnostic used to split the whole file again to find its line."""
    lines = 20_000
    source = SourceFile("f.aicr", "use some-component  # padding the file out to a megabyte or so, like a generated one\n" * lines)
    started = time.monotonic()
    rendered = [diag.render(problem, {"f.aicr": source}) for problem in _errors(lines)]
    assert time.monotonic() - started < 5
    assert rendered[-1].splitlines()[3] == f"{lines} | use some-component  # padding the file out to a megabyte or so, like a generated one"


def test_rendering_thousands_of_errors_on_one_long_line_is_linear() -> None:
    """A minified file of one line: each error shows a window of it, not all of it."""
    source = SourceFile("f.aicr", "use x " * 200_000)
    problems = [diag.Diagnostic("E0301", "x", Span("f.aicr", 1, column, 1, column + 1)) for column in range(5, 1_200_000, 60)]
    started = time.monotonic()
    rendered = [diag.render(problem, {"f.aicr": source}) for problem in problems]
    assert time.monotonic() - started < 5
    assert max(len(line) for text in rendered for line in text.splitlines()) < 140


def test_the_caret_stays_under_the_column_after_tabs_and_control_characters() -> None:
    source = SourceFile("f.aicr", 'recipe r {\n\tset c.x = "a\x01b\tc"\n}\n')
    problem = diag.Diagnostic("E0109", "control character U+0009 in a string", Span("f.aicr", 2, 16, 2, 17))
    assert diag.render(problem, {"f.aicr": source}).splitlines()[2:5] == [
        "  |",
        '2 |     set c.x = "a\u2401b  c"',  # the tab at column 1 takes 4 columns, U+0001 shows as its picture
        "  | " + " " * 18 + "^^",  # the tab at column 16 expands to 2 columns, all marked
    ]


def test_lines_are_counted_as_the_parser_counts_them() -> None:
    """Only `\\n` ends a line (a form feed or U+2028 does not), and a CRLF file's `\\r` is not shown."""
    source = SourceFile("f.aicr", "a\x0cb\u2028c\r\nsecond line\r\n")
    problem = diag.Diagnostic("E0101", "x", Span("f.aicr", 2, 1, 2, 7))
    assert diag.render(problem, {"f.aicr": source}).splitlines()[3:5] == ["2 | second line", "  | ^^^^^^"]


def test_a_long_line_is_shown_around_the_caret() -> None:
    text = "x = " + "a" * 1000 + " + oops + " + "b" * 1000
    source = SourceFile("f.aicr", text)
    column = text.index("oops") + 1
    shown = diag.render(diag.Diagnostic("E0101", "x", Span("f.aicr", 1, column, 1, column + 4)), {"f.aicr": source}).splitlines()
    line, caret = shown[3].removeprefix("1 | "), shown[4].removeprefix("  | ")
    assert line.startswith("...a") and line.endswith("b...") and len(line) <= 130
    assert line[caret.index("^") :].startswith("oops") and caret.strip() == "^^^^"
