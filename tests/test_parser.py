from __future__ import annotations

import pickle

import pytest

from aicrc import diagnostics as diag
from aicrc.compiler.load.resolve import to_python
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import MAX_SOURCE_BYTES, parse
from aicrc.source import SourceFile
from tests.helpers import column_of, deep_list


def parse_text(text: str, name: str = "t.aicr") -> ast.Module:
    return parse(SourceFile(name, text))


def test_every_node_has_a_span_pointing_at_its_text() -> None:
    text = 'component c {\n    namespace ns\n    values { a.b = "x" }\n}\n'
    module = parse_text(text)
    (component,) = module.items
    assert isinstance(component, ast.Component)
    assert (component.span.line, component.span.col, component.span.end_line) == (1, 1, 4)
    assert component.namespace is not None
    assert (component.namespace.span.line, component.namespace.span.col) == (2, 15)
    (entry,) = component.values.entries  # type: ignore[union-attr]
    assert entry.path.segments == ("a", "b")
    line = text.splitlines()[entry.value.span.line - 1]
    assert line[entry.value.span.col - 1 : entry.value.span.end_col - 1] == '"x"'


def test_comments_are_kept_for_the_formatter() -> None:
    module = parse_text("# leading\nrecipe r { # trailing\n}\n")
    assert [(c.text, c.span.line) for c in module.comments] == [("# leading", 1), ("# trailing", 2)]


def test_keywords_are_ordinary_keys_inside_values() -> None:
    text = 'component c { namespace n values { version = "1" values = 2 kind = "k" set { use = true } } }'
    (component,) = parse_text(text).items
    keys = [e.path.segments for e in component.values.entries]  # type: ignore[union-attr]
    assert keys == [("version",), ("values",), ("kind",), ("set",)]


def test_statement_after_a_value_is_still_a_statement() -> None:
    (layer,) = parse_text('layer l: base { set c.a = "x" values c { b = 1 } set c.d = [1] needs c: d }').items
    assert [type(s).__name__ for s in layer.body] == ["Set", "ValuesBlock", "Set", "Needs"]


def test_literals() -> None:
    text = 'recipe r { set c.v = [1, -2, 1.5, -2e3, true, false, null, "a\\"b\\u00e9", {}, [], {x = 1, y.z = 2}] }'
    (recipe,) = parse_text(text).items
    (statement,) = recipe.body
    assert to_python(statement.value) == [1, -2, 1.5, -2000.0, True, False, None, 'a"bé', {}, [], {"x": 1, "y": {"z": 2}}]


def test_quoted_segments_and_measurements() -> None:
    text = 'layer l: base { set c."nvidia.com/gpu".x = 1 require OS.sysctl."/proc/sys/kernel/osrelease" >= "6.8" }'
    (layer,) = parse_text(text).items
    assert layer.body[0].path.segments == ("c", "nvidia.com/gpu", "x")
    assert layer.body[1].path.segments == ("OS", "sysctl", "/proc/sys/kernel/osrelease")
    assert str(layer.body[0].path) == 'c."nvidia.com/gpu".x'


def test_predicate_precedence_and_binds_tighter_than_or() -> None:
    (layer,) = parse_text("layer l: base when a == x or b == y and not c in [z] { }").items
    assert isinstance(layer.when, ast.Or)
    assert isinstance(layer.when.items[1], ast.And)
    assert isinstance(layer.when.items[1].items[1], ast.Not)


def test_repeated_single_statement_is_reported_with_both_places() -> None:
    with pytest.raises(diag.AicrcError) as caught:
        parse_text("component c {\n namespace a\n namespace b\n}")
    (problem,) = caught.value.diagnostics
    assert problem.code == "E0108"
    assert problem.span.line == 3 and problem.labels[0].span.line == 2


def test_parsed_modules_are_cached_and_picklable() -> None:
    text = "recipe cached { service = eks }"
    first = parse_text(text, "cached.aicr")
    assert pickle.loads(pickle.dumps(first)) == first
    assert parse_text(text, "cached.aicr") == first


def test_oversized_input_is_refused_quickly() -> None:
    with pytest.raises(diag.AicrcError) as caught:
        parse_text("#" * (MAX_SOURCE_BYTES + 1))
    assert caught.value.diagnostics[0].code == "E0105"


def test_deep_nesting_is_a_diagnostic_not_a_crash() -> None:
    depth = 5000
    with pytest.raises(diag.AicrcError) as caught:
        parse_text("recipe r { set c.v = " + "[" * depth + "]" * depth + " }")
    assert caught.value.diagnostics[0].code == "E0106"


# ---- limits: nesting, strings, numbers ---------------------------------------------------------


def _problems(text: str) -> list[tuple[str, int, int]]:
    """(code, line, column) of each problem parsing `text` reports; empty when it parses."""
    try:
        parse_text(text)
    except diag.AicrcError as failure:
        return [(d.code, d.span.line, d.span.col) for d in failure.diagnostics if d.span is not None]
    return []


# Statements nested `depth` levels deep, and where level MAX_NESTING + 1 starts: the n-th `marker`.
_DEEP = {
    "list": (lambda depth: "recipe r { set c.x = " + deep_list(depth - 1) + " }", "[", ast.MAX_NESTING),  # x is level 1
    "set-path": (lambda depth: "recipe r { set c." + ".".join(["k"] * depth) + " = 1 }", "k", ast.MAX_NESTING + 1),
    "map-keys": (lambda depth: "component c { values " + "{ k " * depth + "{}" + " }" * depth + " }", "k", ast.MAX_NESTING + 1),
    "dotted-key": (lambda depth: "recipe r { set c.v = { " + ".".join(["k"] * (depth - 1)) + " = 1 } }", "k", ast.MAX_NESTING),
    "not": (lambda depth: "layer l: base when " + "not " * depth + "a == b {}", "not", ast.MAX_NESTING + 1),
    "and": (
        lambda depth: "layer l: base when " + "a == b and (" * depth + "a == b" + ")" * depth + " {}",
        "a == b and",
        ast.MAX_NESTING + 1,
    ),
}


@pytest.mark.parametrize("case", _DEEP)
def test_nesting_deeper_than_the_limit_is_an_error_where_the_limit_is_crossed(case: str) -> None:
    build, marker, occurrence = _DEEP[case]
    assert _problems(build(ast.MAX_NESTING)) == []
    for depth in (ast.MAX_NESTING + 1, 3000):
        text = build(depth)
        assert _problems(text) == [("E0106", 1, column_of(text, marker, occurrence))]


def test_nesting_counts_from_the_values_root_and_parentheses_do_not_nest() -> None:
    keys = ".".join(["k"] * ast.MAX_NESTING)
    # the component is not a level of its values; a require's measurement is not a value path
    assert _problems(f"recipe r {{ set c.{keys} = 1 }}") == []
    assert _problems(f"layer l: base {{ require K8s.server.version >= {deep_list(ast.MAX_NESTING)} }}") == []
    # a predicate in any number of parentheses is the same predicate
    (layer,) = parse_text("layer l: base when " + "(" * 5000 + "a == b" + ")" * 5000 + " {}").items
    assert isinstance(layer.when, ast.Compare)
    # each deep structure is reported once, and every one of them is reported
    text = "recipe r {\n set c.x = " + deep_list(200) + "\n set c.y = " + deep_list(100) + "\n}"
    assert _problems(text) == [("E0106", 2, 11 + ast.MAX_NESTING), ("E0106", 3, 11 + ast.MAX_NESTING)]


def test_control_characters_and_bad_escapes_are_errors_at_the_character() -> None:
    assert _problems('recipe r { set c.x = "a\tb" }') == [("E0109", 1, 24)]
    assert _problems('recipe r { set c.x = "\x7f" }') == [("E0109", 1, 23)]
    assert _problems('recipe r { set c."k\x01" = 1 }') == [("E0109", 1, 20)]
    assert _problems('recipe r { set c.x = "a\\qb" }') == [("E0110", 1, 24)]  # not an unterminated string
    assert _problems('recipe r { set c.x = "\\u12" }') == [("E0110", 1, 23)]
    # escapes stand for any character, control characters included, in values and keys
    (recipe,) = parse_text('recipe r { set c."\\u0001".x = "\\t\\u0000\\ud83d\\ude00\\\\q" }').items
    assert recipe.body[0].path.segments == ("c", "\x01", "x")
    assert recipe.body[0].value.value == "\t\x00\U0001f600\\q"


def test_half_a_surrogate_pair_is_an_error() -> None:
    assert _problems('recipe r { set c.x = "\\ud83d" }') == [("E0110", 1, 23)]
    assert _problems('recipe r { set c.x = "\\ude00\\ud83d" }') == [("E0110", 1, 23), ("E0110", 1, 29)]
    assert _problems('recipe r { set c.x = "\\ud83dx\\ude00" }') == [("E0110", 1, 23), ("E0110", 1, 30)]


def test_names_of_files_and_charts_hold_no_control_characters_even_escaped() -> None:
    text = (
        'import "a\\u0000"\n'
        'component c { chart c from "r\\t" version "1\\n" manifest "m\\u0007.yaml" schema "s\\r" }\n'
        'layer l: base { manifest c "x\\u001f" }\n'
    )
    assert _problems(text) == [("E0109", 1, 8), ("E0109", 2, 28), ("E0109", 2, 42), ("E0109", 2, 57), ("E0109", 2, 79), ("E0109", 3, 28)]


def test_integers_are_64_bit_and_floats_finite() -> None:
    (recipe,) = parse_text("recipe r { set c.x = [9223372036854775807, -9223372036854775808, 1.7e308, 1e-400] }").items
    assert to_python(recipe.body[0].value) == [2**63 - 1, -(2**63), 1.7e308, 0.0]
    assert _problems("recipe r { set c.x = 9223372036854775808 }") == [("E0111", 1, 22)]
    assert _problems("recipe r { set c.x = [0, -9223372036854775809] }") == [("E0111", 1, 26)]
    assert _problems("recipe r { set c.x = " + "9" * 5000 + " }") == [("E0111", 1, 22)]  # beyond what `int` converts
    assert _problems("recipe r { set c.x = -1e309 }") == [("E0111", 1, 22)]


def test_an_unprintable_character_outside_strings_is_named_by_its_code_point() -> None:
    with pytest.raises(diag.AicrcError) as caught:
        parse_text("recipe r {\n service = eks\x00\n}")
    (problem,) = caught.value.diagnostics
    assert (problem.code, problem.message, problem.span.line, problem.span.col) == ("E0101", "unexpected character U+0000", 2, 15)
