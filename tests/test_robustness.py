"""Hostile and pathological input ends in a located error, never a traceback or a hang.

Each case was a crash or a near-hang once: a control character in a string, an integer of
thousands of digits, values and predicates nested hundreds of levels deep, a value path of 100,000
keys, and a 2 MB file with 20,000 errors. Every command that reads a file (`compile`, `fmt`,
`check`, `explain`, `diff`) reports the same error at the same place, with its documented exit
code, and writes nothing. The time bounds are regression guards with wide margins, not benchmarks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from aicrc.cli import main
from aicrc.compiler.evaluate.values import Assignment, Origin, ValueTree, leaf_paths
from aicrc.compiler.syntax.ast import MAX_NESTING
from aicrc.compiler.syntax.parser import MAX_SOURCE_BYTES
from tests.conftest import GOLDEN
from tests.helpers import column_of, deep_list

GOOD = "recipe good {\n    service = eks\n}\n"

# command -> its arguments for the file under test, and its exit code when the file has errors
COMMANDS: dict[str, tuple[Callable[[str], list[str]], int]] = {
    "compile": (lambda file: ["compile", file, "-o", "out.yaml"], 1),
    "fmt": (lambda file: ["fmt", file], 1),
    "check": (lambda file: ["check", file], 2),  # 2: the file could not be checked
    "explain": (lambda file: ["explain", file, "gpu-operator.driver"], 1),
    "diff": (lambda file: ["diff", file, "good.aicr"], 2),  # like diff(1): 2 for trouble
}


_DEEP_MAP = "set gpu-operator.x = " + "{a = " * 162 + "1" + "}" * 162
_DEEP_VALUES = "values gpu-operator " + "{ a " * 162 + "{}" + " }" * 162
_LONG_PATH = "set gpu-operator." + ".".join(["a"] * 100_000) + " = 1"
_NOTS = "when " + "not " * 500 + "service == eks enable cdi"

# name -> (a statement of the recipe, what it reports, and the column on the statement's line)
CASES: dict[str, tuple[str, str, int]] = {
    "tab-in-string": ('set gpu-operator.driver.version = "580\t1"', "E0109", 43),
    "tab-in-key": ('set gpu-operator."a\tb" = 1', "E0109", 24),
    "del-in-string": ('set gpu-operator.x = "\x7f"', "E0109", 27),
    "nul-in-manifest-name": ('manifest gpu-operator "extra\\u0000.yaml"', "E0109", 27),
    "integer-of-4301-digits": ("set gpu-operator.x = " + "9" * 4301, "E0111", 26),
    "map-162-deep": (_DEEP_MAP, "E0106", 4 + column_of(_DEEP_MAP, "a =", MAX_NESTING)),  # x is level 1
    "values-block-162-deep": (_DEEP_VALUES, "E0106", 4 + column_of(_DEEP_VALUES, "a {", MAX_NESTING + 1)),
    "list-326-deep": ("set gpu-operator.x = " + deep_list(326), "E0106", 26 + MAX_NESTING - 1),
    "list-400-deep": ("set gpu-operator.x = " + deep_list(400), "E0106", 26 + MAX_NESTING - 1),
    "list-498-deep": ("set gpu-operator.x = " + deep_list(498), "E0106", 26 + MAX_NESTING - 1),
    "path-of-100000-keys": (_LONG_PATH, "E0106", 4 + column_of(_LONG_PATH, ".a", MAX_NESTING + 1) + 1),
    "predicate-500-deep": (_NOTS, "E0106", 4 + column_of(_NOTS, "not", MAX_NESTING + 1)),
}


def _recipe(statement: str) -> str:
    return f"recipe r {{\n    service = eks\n    {statement}\n}}\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AICRC_STDLIB", str(GOLDEN / "lib"))
    (tmp_path / "good.aicr").write_text(GOOD, encoding="utf-8")
    return tmp_path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES)
def test_every_command_reports_the_error_where_it_is(case: str, command: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    statement, code, column = CASES[case]
    text = _recipe(statement)
    (workdir / "recipe.aicr").write_text(text, encoding="utf-8")
    arguments, expected_exit = COMMANDS[command]

    exit_code, output = _run(arguments("recipe.aicr"), capsys)

    assert exit_code == expected_exit, output[-2000:]
    assert f"error[{code}]" in output
    assert f"recipe.aicr:3:{column}" in output
    assert "Traceback" not in output
    assert not (workdir / "out.yaml").exists()
    assert (workdir / "recipe.aicr").read_text(encoding="utf-8") == text  # fmt left it as it was


@pytest.mark.parametrize(
    "component",
    [
        'component tabbed {\n    chart tabbed from "https://charts.example.com\t" version "1.0"\n    namespace t\n}\n',
        'component tabbed {\n    chart tabbed from "https://charts.example.com" version "1.0\\t"\n    namespace t\n}\n',
    ],
    ids=["raw-tab-in-repository", "escaped-tab-in-version"],
)
@pytest.mark.parametrize("command", ["compile", "fmt", "check"])
def test_charts_hold_no_control_characters(component: str, command: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "recipe.aicr").write_text(component + "\nrecipe r {\n    service = eks\n    use tabbed\n}\n", encoding="utf-8")
    arguments, expected_exit = COMMANDS[command]
    exit_code, output = _run(arguments("recipe.aicr"), capsys)
    assert exit_code == expected_exit
    assert "error[E0109]" in output and "recipe.aicr:2:" in output and "Traceback" not in output
    assert not (workdir / "out.yaml").exists()


@pytest.mark.parametrize("output_format", ["yaml", "json"])
def test_escaped_control_characters_reach_the_output_intact(output_format: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What a raw control character should be written as works, in keys and values, and both
    output formats read back to the same text."""
    weird = r"\t\u0000\u001b\u007f\u0085\u2028\ufeff\ud83d\ude00\r\n"
    (workdir / "recipe.aicr").write_text(_recipe(f'set gpu-operator."k{weird}" = ["{weird}"]'), encoding="utf-8")
    exit_code, _ = _run(["compile", "recipe.aicr", "--format", output_format, "-o", "out.txt"], capsys)
    assert exit_code == 0
    text = (workdir / "out.txt").read_text(encoding="utf-8")
    document = json.loads(text) if output_format == "json" else yaml.safe_load(text)
    expected = "\t\x00\x1b\x7f\x85\u2028\ufeff\U0001f600\r\n"
    (component,) = [c for c in document["components"] if c["name"] == "gpu-operator"]
    assert component["values"]["k" + expected] == [expected]


def test_the_installed_command_reports_without_a_traceback(workdir: Path) -> None:
    """The same through the `aicrc` entry point in a process of its own (its own recursion limit)."""
    for case in ("tab-in-string", "integer-of-4301-digits", "list-498-deep", "predicate-500-deep"):
        statement, code, column = CASES[case]
        (workdir / f"{case}.aicr").write_text(_recipe(statement), encoding="utf-8")
        run = subprocess.run(
            [sys.executable, "-m", "aicrc", "compile", f"{case}.aicr", "-o", "out.yaml"], capture_output=True, text=True, cwd=workdir
        )
        assert run.returncode == 1, run.stderr[-2000:]
        assert f"error[{code}]" in run.stderr and f"{case}.aicr:3:{column}" in run.stderr
        assert "Traceback" not in run.stderr + run.stdout
        assert not (workdir / "out.yaml").exists()


@pytest.mark.parametrize(
    ("statement", "code"),
    [("use no-such-component", "E0301"), ('set gpu-operator.x = "a\tb"', "E0109")],
    ids=["unknown-component", "control-character"],
)
def test_twenty_thousand_errors_print_fifty_and_finish_quickly(
    statement: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    line = f"    {statement}  # padded out so that 20,000 such lines make up a file of about 2 MB"
    line += " " * (100 - len(line)) + "\n"
    text = "recipe r {\n    service = eks\n" + line * 20_000 + "}\n"
    assert 1_900_000 < len(text.encode()) <= MAX_SOURCE_BYTES
    (tmp_path / "many.aicr").write_text(text, encoding="utf-8")

    started = time.monotonic()
    exit_code, output = _run(["compile", "many.aicr", "-o", "out.yaml"], capsys)
    elapsed = time.monotonic() - started

    assert exit_code == 1
    assert output.count(f"error[{code}]") == 50
    assert "many.aicr:3:" in output and "many.aicr:52:" in output and "many.aicr:53:" not in output
    assert output.rstrip().endswith("... and 19950 more errors\n\naborting: 20000 errors")
    assert not (tmp_path / "out.yaml").exists()
    assert elapsed < 10


@pytest.mark.parametrize("command", ["compile", "fmt"])
def test_a_path_of_100000_keys_is_refused_quickly(command: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "recipe.aicr").write_text(_recipe(_LONG_PATH), encoding="utf-8")
    started = time.monotonic()
    exit_code, output = _run(COMMANDS[command][0]("recipe.aicr"), capsys)
    assert time.monotonic() - started < 10
    assert exit_code == 1 and "error[E0106]" in output


def test_value_trees_are_linear_in_the_length_of_a_path() -> None:
    """Paths from the command line (`--set`) are not bounded by the parser: applying and listing
    a value 100,000 keys deep, replacing it, and setting beside it stay linear."""
    tree, origin = ValueTree(), Origin("r", "recipe", None)
    path = ("a",) * 100_000
    started = time.monotonic()
    tree.apply(Assignment("c", path, 1, origin))
    tree.apply(Assignment("c", path, 2, origin))
    tree.apply(Assignment("c", (*path[:-1], "b"), 3, origin))
    leaves = leaf_paths(tree.values)
    tree.apply(Assignment("c", path[:50_000], "flat", origin))
    assert time.monotonic() - started < 5
    assert list(leaves.values()) == [2, 3] and len(next(iter(leaves))) == 100_000
    assert leaf_paths(tree.values) == {path[:50_000]: "flat"}
    assert [c.value for c in tree.history[path[:50_000]]] == [1, 2, 3, "flat"]


@pytest.mark.parametrize(
    "override",
    [
        "gpu-operator:x=" + "[" * 3000 + "]" * 3000,  # deeper than the YAML parser can recurse
        "gpu-operator:x=" + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1),
        "gpu-operator:" + "a." * MAX_NESTING + "b=1",
    ],
    ids=["yaml-recursion", "deep-value", "long-path"],
)
def test_a_set_nested_too_deep_is_refused(override: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _run(["compile", "good.aicr", "--set", override, "-o", "out.yaml"], capsys)
    assert code == 1
    assert "error[E0106]" in output and "Traceback" not in output
    assert not (workdir / "out.yaml").exists()


def test_a_set_as_deep_as_allowed_compiles(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    override = "gpu-operator:" + ".".join(["a"] * (MAX_NESTING - 1)) + "=1"
    code, output = _run(["compile", "good.aicr", "--set", override, "-o", "out.yaml"], capsys)
    assert code == 0, output
