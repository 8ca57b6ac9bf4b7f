"""Every input ends in a clear answer: real recipe and library files, mutated at random (a fixed
seed, a bounded number of inputs), through compile, fmt, check and explain.

For each input and command: the exit code is 0, 1 or 2 (never 3, an internal error); nothing
prints a traceback; an error names its code and, where it is about the input's text, its place;
and `compile -o` writes its output only when the compile succeeds.
"""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aicrc.cli import main
from tests.conftest import ROOT

SEEDS = sorted([*(ROOT / "recipes").glob("*.aicr"), *(ROOT / "stdlib" / "layers").glob("*.aicr")])
TEXTS = {path.name: path.read_text(encoding="utf-8") for path in SEEDS}

# Fragments that probe the grammar's edges: quotes, braces, control characters, huge literals,
# deep nesting, keywords out of place, non-ASCII and surrogate-adjacent characters.
FRAGMENTS = [
    '"',
    "{",
    "}",
    "[",
    "]",
    "=",
    ".",
    ",",
    "#",
    "\t",
    "\x00",
    "\x1b",
    "\x7f",
    "\r",
    "\n",
    "\\",
    "9" * 5000,
    "1e999",
    "-0",
    "[" * 400,
    "{a = " * 200,
    "a." * 300,
    "when",
    "layer x:",
    "use",
    "set",
    "recipe",
    'import "../../etc/passwd"',
    "é",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    'manifest c "x.yaml"',
]

_ERROR_HEADER = re.compile(r"^(error|warning)\[([EWL]\d{4})\]", re.MULTILINE)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    text = TEXTS[name]
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = min(len(text), start + draw(st.integers(0, 40)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        if kind == "delete":
            text = text[:start] + text[end:]
        elif kind == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        else:
            piece = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)))
            text = text[:start] + piece + (text[end:] if kind == "replace" else text[start:])
    return name, text


def _run(args: list[str]) -> tuple[int, str, str]:
    """Run the command line in-process (capsys cannot serve a hypothesis test: it is not reset
    between examples), capturing what it prints."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return int(code), out.getvalue(), err.getvalue()


def _assert_clear(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2), (code, err[-2000:])
    assert "Traceback" not in out + err
    assert "internal error" not in err
    if code != 0:
        assert _ERROR_HEADER.search(out + err) or "finding(s)" in out or "usage" in err or "would reformat" in out, err[-2000:]


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated())
def test_mutated_files_end_in_a_clear_answer(case: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> None:
    name, text = case
    work = tmp_path_factory.mktemp("fuzz")
    if (ROOT / "recipes" / name).exists():
        target = work / name
        compile_args = ["compile", str(target)]
    else:  # a library file: loaded as an overlay's file, under a shipped recipe
        (work / "overlay").mkdir()
        target = work / "overlay" / name
        compile_args = ["compile", "--overlay", str(work / "overlay"), str(ROOT / "recipes" / "blackwell-eks-training.aicr")]
    target.write_text(text, encoding="utf-8")
    output = work / "out.yaml"

    code, out, err = _run([*compile_args, "-o", str(output)])
    event(f"compile exit {code}")  # `pytest --hypothesis-show-statistics` shows the mix of outcomes
    _assert_clear(code, out, err)
    assert output.exists() == (code == 0)
    if code == 1:
        headers = _ERROR_HEADER.findall(err)
        assert headers and headers[0][0] == "error", err[-2000:]
        assert "-->" in err, err[-2000:]  # the first error is located in a file

    for args in (["fmt", "--check", str(target)], ["check", str(target)], ["explain", *compile_args[1:], "gpu-operator.driver"]):
        _assert_clear(*_run(args))


def test_the_fuzz_seeds_are_the_shipped_files() -> None:
    assert len(TEXTS) >= 20 and all(text.strip() for text in TEXTS.values())
