"""`aicrc fmt`: canonical, idempotent, meaning-preserving, comments kept, errors change nothing."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aicrc import diagnostics as diag
from aicrc.api import load_library
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import parse
from aicrc.records import Record
from aicrc.source import SourceFile, Span
from aicrc.tools.fmt import format_source
from tests.conftest import ROOT

LIBRARY_FILES = sorted([*(ROOT / "stdlib").rglob("*.aicr"), *(ROOT / "recipes").glob("*.aicr")])


def _source(text: str, name: str = "t.aicr") -> SourceFile:
    return SourceFile(name, text)


def _shape(node: Any) -> Any:
    """A node without its positions: two files with the same shape mean the same."""
    if isinstance(node, Span):
        return None
    if isinstance(node, ast.Module):
        return (_shape(node.items), [c.text.rstrip() for c in node.comments])
    if isinstance(node, Record):
        return (type(node).__name__, *(_shape(node.__dict__[name]) for name in node._fields))
    if isinstance(node, (tuple, list)):
        return tuple(_shape(item) for item in node)
    return node


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_library_is_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_source(_source(text, str(path))) == text, f"run `aicrc fmt {path.relative_to(ROOT)}`"


def _scramble(text: str, seed: int) -> str:
    """The same program laid out badly: indentation, spaces around `=`, `,` and braces varied
    (strings and comments untouched)."""
    rng = random.Random(seed)
    pieces = re.split(r'("(?:[^"\\\n]|\\.)*"|#[^\n]*)', text)
    for i in range(0, len(pieces), 2):  # code between strings and comments
        code = re.sub(r"\n[ \t]*", lambda _: "\n" + " " * rng.randrange(0, 9), pieces[i])
        code = re.sub(
            r"[ \t]*((?<![=!<>])=(?!=)|[,{}\[\]])[ \t]*", lambda m: " " * rng.randrange(0, 3) + m.group(1) + " " * rng.randrange(0, 3), code
        )
        pieces[i] = code
    return "".join(pieces)


def test_formatting_a_scrambled_library_gives_the_same_files_and_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Meaning-preserving over the real library: every recipe compiled from the formatted,
    scrambled copy equals the recipe compiled from the original (the digest aside: it hashes the
    text)."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "stdlib", copy / "stdlib")
    shutil.copytree(ROOT / "recipes", copy / "recipes")
    for seed, path in enumerate(sorted([*copy.rglob("*.aicr")])):
        scrambled = _scramble(path.read_text(encoding="utf-8"), seed)
        formatted = format_source(_source(scrambled, str(path)))
        assert format_source(_source(formatted, str(path))) == formatted
        path.write_text(formatted, encoding="utf-8")
        original = ROOT / path.relative_to(copy)
        assert formatted == original.read_text(encoding="utf-8"), f"{original} formats differently after scrambling"
    monkeypatch.setenv("AICRC_STDLIB", str(copy / "stdlib"))
    formatted_library, original_library = load_library(use_env=True), load_library(use_env=False)
    for recipe in sorted((ROOT / "recipes").glob("*.aicr")):
        a = original_library.compile_file(recipe).document
        b = formatted_library.compile_file(copy / "recipes" / recipe.name).document
        a["metadata"].pop("digest")
        b["metadata"].pop("digest")
        assert a == b, recipe.name


def test_layout_rules() -> None:
    messy = """\
# leading comment
import   "./a"
import "./b"
layer   x :environment when service==eks and(accelerator==h100 or accelerator == h200){
  set gpu.a.b={c=1,d=[1,2]}   # trailing
  values gpu {  driver={ enabled=true }
     list = [
       1,   # one
       2 ]
  }


  # about use
  use a,b
}
recipe r { service=eks
  set gpu."plain".x = "y" }
"""
    expected = """\
# leading comment
import "./a"
import "./b"

layer x: environment when service == eks and (accelerator == h100 or accelerator == h200) {
    set gpu.a.b = { c = 1, d = [1, 2] }  # trailing
    values gpu {
        driver { enabled = true }
        list = [
            1,  # one
            2,
        ]
    }

    # about use
    use a, b
}

recipe r {
    service = eks
    set gpu.plain.x = "y"
}
"""
    assert format_source(_source(messy)) == expected
    assert _shape(parse(_source(messy))) == _shape(parse(_source(expected)))


def test_parentheses_keep_the_tree() -> None:
    for text in (
        "layer x: base when not (a == b or c == d) {}\n",
        "layer x: base when a == b and (c == d and e == f) {}\n",
        "layer x: base when (a == b or c == d) or e == f {}\n",
        "layer x: base when a == b or c == d and e == f {}\n",
    ):
        formatted = format_source(_source(text))
        assert _shape(parse(_source(formatted))) == _shape(parse(_source(text))), text
        assert formatted == text


def test_syntax_error_changes_nothing(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.aicr", tmp_path / "bad.aicr"
    good.write_text("recipe r {   service=eks }\n", encoding="utf-8")
    bad.write_text("recipe r {\n  service = eks\n  set a.b = [1,\n", encoding="utf-8")
    with pytest.raises(diag.AicrcError):
        format_source(_source(bad.read_text(encoding="utf-8")))
    run = subprocess.run([sys.executable, "-m", "aicrc", "fmt", str(good), str(bad)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1
    assert "E0101" in run.stderr and "bad.aicr:4:1" in run.stderr
    assert bad.read_text(encoding="utf-8") == "recipe r {\n  service = eks\n  set a.b = [1,\n"
    assert good.read_text(encoding="utf-8") == "recipe r {\n    service = eks\n}\n"


def test_check_and_diff_change_nothing(tmp_path: Path) -> None:
    file = tmp_path / "r.aicr"
    file.write_text("recipe r {service=eks}\n", encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "aicrc", "fmt", "--check", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert (check.returncode, check.stdout) == (1, f"would reformat {file.as_posix()}\n")
    diff = subprocess.run([sys.executable, "-m", "aicrc", "fmt", "--diff", str(file)], capture_output=True, text=True, cwd=ROOT)
    assert diff.returncode == 0
    assert "-recipe r {service=eks}\n+recipe r {\n+    service = eks\n+}\n" in diff.stdout
    assert file.read_text(encoding="utf-8") == "recipe r {service=eks}\n"
    clean = subprocess.run([sys.executable, "-m", "aicrc", "fmt", "--check", str(ROOT / "recipes")], capture_output=True, text=True)
    assert (clean.returncode, clean.stdout) == (0, "")


# ---- property-based: generated programs, laid out at random ----------------------------------------

NAMES = ["eks", "gpu-operator", "a_b", "x1", "driver", "h100"]
COMMENT = st.sampled_from(["# note", "#", '# a { b = [ } ] "q"', "#  spaced  "])


@st.composite
def _separator(draw: st.DrawFn) -> str:
    """Whitespace between two tokens: spaces, newlines, or a comment (which ends the line)."""
    kind = draw(st.sampled_from(["space", "space", "space", "newline", "comment"]))
    if kind == "space":
        return " " * draw(st.integers(1, 3))
    if kind == "newline":
        return "\n" + " " * draw(st.integers(0, 6))
    return " " + draw(COMMENT) + "\n" + " " * draw(st.integers(0, 6))


def _name() -> st.SearchStrategy[str]:
    return st.sampled_from(NAMES)


def _path() -> st.SearchStrategy[list[str]]:
    segment = st.one_of(_name(), st.sampled_from(['"nvidia.com/gpu"', '"plain"', '"a b"']))
    return st.lists(segment, min_size=1, max_size=3).map(lambda parts: [t for part in parts for t in (".", part)][1:])


def _value(depth: int = 0) -> st.SearchStrategy[list[str]]:
    scalar = st.sampled_from(['"s"', '"é\\n"', "1", "-2", "1.50", "3e5", "true", "false", "null"]).map(lambda t: [t])
    if depth >= 2:
        return scalar
    items = st.lists(_value(depth + 1), max_size=3)
    as_list = items.map(lambda xs: ["[", *[t for i, x in enumerate(xs) for t in ([","] if i else []) + x], "]"])
    return st.one_of(scalar, as_list, _map(depth + 1))


def _map(depth: int) -> st.SearchStrategy[list[str]]:
    entry = st.tuples(_path(), st.booleans(), _value(depth)).map(
        lambda e: [*e[0], *(["{", "}"] if e[1] else ["=", *e[2]])]  # `key { }` or `key = value`
    )
    return st.lists(entry, max_size=3).map(lambda es: ["{", *[t for e in es for t in e], "}"])


def _predicate(depth: int = 0) -> st.SearchStrategy[list[str]]:
    compare = st.tuples(_name(), st.sampled_from(["==", "!="]), _name()).map(list)
    member = st.lists(_name(), min_size=1, max_size=3).map(lambda ns: [ns[0], "in", "[", *[t for n in ns for t in (n, ",")][:-1], "]"])
    if depth >= 2:
        return st.one_of(compare, member)
    inner = _predicate(depth + 1)
    return st.one_of(
        compare,
        member,
        inner.map(lambda p: ["not", "(", *p, ")"]),
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: ["(", *t[0], ")", t[1], "(", *t[2], ")"]),
    )


def _statement() -> st.SearchStrategy[list[str]]:
    names = st.lists(_name(), min_size=1, max_size=3).map(lambda ns: [t for n in ns for t in (n, ",")][:-1])
    return st.one_of(
        names.map(lambda ns: ["use", *ns]),
        names.map(lambda ns: ["drop", *ns]),
        st.tuples(_name(), _path(), _value()).map(lambda t: ["set", t[0], ".", *t[1], "=", *t[2]]),
        st.tuples(_name(), _map(1)).map(lambda t: ["values", t[0], *t[1]]),
        st.tuples(_name(), names).map(lambda t: ["needs", t[0], ":", *t[1]]),
        _name().map(lambda n: ["manifest", n, '"m.yaml"']),
        names.map(lambda ns: ["enable", *ns]),
        st.tuples(_predicate(), names).map(lambda t: ["when", *t[0], "enable", *t[1]]),
        st.sampled_from(["==", ">=", "<", "!="]).map(lambda op: ["require", "K8s", ".", "server", ".", "version", op, '"1.30"']),
        names.map(lambda ns: ["check", "conformance", *ns]),
    )


def _declaration() -> st.SearchStrategy[list[str]]:
    body = st.lists(_statement(), max_size=4).map(lambda ss: [t for s in ss for t in s])
    names = st.lists(_name(), min_size=1, max_size=3).map(lambda ns: [t for n in ns for t in (n, ",")][:-1])
    dimension = st.lists(
        st.one_of(
            names.map(lambda ns: ["values", *ns]),
            st.tuples(_name(), names).map(lambda t: ["family", t[0], "=", "[", *t[1], "]"]),
            st.tuples(_name(), _name()).map(lambda t: ["alias", t[0], "=", t[1]]),
            st.tuples(_name(), st.one_of(st.just([]), _predicate().map(lambda p: ["when", *p]))).map(lambda t: ["default", t[0], *t[1]]),
        ),
        max_size=4,
    )
    component = st.lists(
        st.one_of(
            st.just(["chart", "gpu-operator", "from", '"https://x"', "version", '"v1"']),
            _name().map(lambda n: ["kind", n]),
            _name().map(lambda n: ["namespace", n]),
            names.map(lambda ns: ["needs", *ns]),
            st.just(["manifest", '"m.yaml"']),
            st.just(["schema", '"s.json"']),
            _map(1).map(lambda m: ["values", *m]),
        ),
        max_size=5,
        unique_by=lambda clause: clause[0] if clause[0] in ("chart", "kind", "namespace", "schema", "values") else object(),
    )
    binding = st.tuples(_name(), _name()).map(lambda t: [t[0], "=", t[1]])
    return st.one_of(
        st.just(["import", '"./other"']),
        st.tuples(st.booleans(), _name(), dimension).map(
            lambda t: [*(["extend"] if t[0] else []), "dimension", t[1], "{", *[x for c in t[2] for x in c], "}"]
        ),
        st.tuples(_name(), component).map(lambda t: ["component", t[0], "{", *[x for c in t[1] for x in c], "}"]),
        st.tuples(_name(), body).map(lambda t: ["feature", t[0], "{", *t[1], "}"]),
        st.tuples(_name(), _name(), st.one_of(st.just([]), _predicate().map(lambda p: ["when", *p])), body).map(
            lambda t: ["layer", t[0], ":", t[1], *t[2], "{", *t[3], "}"]
        ),
        st.tuples(_name(), st.lists(st.one_of(binding, _statement()), max_size=4)).map(
            lambda t: ["recipe", t[0], "{", *[x for s in t[1] for x in s], "}"]
        ),
    )


@st.composite
def programs(draw: st.DrawFn) -> str:
    tokens = [t for d in draw(st.lists(_declaration(), max_size=4)) for t in d]
    text = draw(st.sampled_from(["", "# header\n\n"]))
    for token in tokens:
        text += token + draw(_separator())
    return text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs(text: str) -> None:
    """Any layout of any program formats to text that reads back to the same tree with the same
    comments, and formatting that text again changes nothing."""
    original = parse(_source(text))
    formatted = format_source(_source(text))
    assert _shape(parse(_source(formatted))) == _shape(original)
    assert format_source(_source(formatted)) == formatted
