from __future__ import annotations

import pickle

import pytest

from aicrc import diagnostics as diag
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import MAX_SOURCE_BYTES, parse
from aicrc.source import SourceFile


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
    from aicrc.compiler.evaluate.values import to_python

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
