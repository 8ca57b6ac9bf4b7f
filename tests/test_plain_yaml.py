"""`plain_yaml` writes exactly PyYAML's text, or leaves the document to PyYAML.

PyYAML (libyaml's emitter, as `text.to_yaml` configures it) is the oracle: for every shipped
recipe, in both output formats, the fast writer must handle the document and match it byte for
byte; for random documents (keys and strings from an alphabet of YAML's indicators, numbers,
dates and words that read as other types) it must match or give up, never differ.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from aicrc.api import Library
from aicrc.compiler.emit import plain_yaml
from aicrc.compiler.emit.recipe_result import recipe_result
from aicrc.compiler.emit.text import _pyyaml_dump, to_yaml
from tests.conftest import ROOT

RECIPES = sorted((ROOT / "recipes").glob("*.aicr"))

# Strings whose YAML spelling turns on one rule each: words, numbers and dates YAML 1.1 reads as
# other types (and near misses it does not), indicators at the start, `: ` and ` #` inside,
# document markers, quotes, spaces at the ends.
EDGES = [
    "y", "n", "Y", "yes", "Yes", "YES", "yEs", "no", "on", "off", "OFF", "true", "False", "tRue", "null", "Null", "nULL", "~",
    "0", "1", "-1", "+1", "007", "08", "0b101", "0b102", "0x1F", "0xg", "1_000", "1:20", "1:20:30", "190:20:30.15", "1:60",
    "1.5", "1.", ".5", "-.5", "1.5e+3", "1.5e3", "1e3", ".inf", "-.Inf", ".NaN", ".nan0", "1.2.3", "24.04", "6.8", "v1.2",
    "2024-01-02", "2024-1-2", "2024-01-02T03:04:05Z", "2024-1-2 3:04:05.5 -5", "2024-01-02x", "10%", "256Mi", "10m",
    "<<", "<", "=", "==", ">=", "!", "!x", "&", "&a", "*", "*a", "-", "- x", "-x", "--x", "---", "---x", "...", "...x",
    "?", "? x", "?x", ":", ":x", ": x", "x:", "x:y", "x: y", "x :y", "x#y", "x #y", "#x", ",x", "x,y", "[x]", "{x}",
    "|", "|x", ">", ">x", "'", "'x'", '"', '"x"', "it's", "%x", "@x", "`x", "a b", "a  b", " a", "a ", "a\tb", "",
    "<stdlib>/a.yaml", "DCGM{a!=\"\",b!=\"\"}", "last_over_time(<<.Series>>[1m])", "nvcr.io/nvidia/x:v1.2@sha256:ab",
    "é", "a\x00b", "\x7f",
]  # fmt: skip
LINES = ["a", "b c", "", " d", "e ", "  - f: g", "#h", "'i'", "\tj", "k:"]


def test_every_shipped_recipe_is_written_without_pyyaml_and_matches_it(library: Library) -> None:
    for path in RECIPES:
        compilation = library.compile_file(path)
        for document in (compilation.document, recipe_result(compilation.resolved, compilation.document, compilation.program.dimensions)):
            fast = plain_yaml.dump(document)
            assert fast is not None, path.name
            assert fast == _pyyaml_dump(document), path.name


@pytest.mark.parametrize("text", EDGES)
def test_each_edge_string_as_key_and_as_value_matches_pyyaml(text: str) -> None:
    for document in ({"key": text}, {text or "k": 1}, {"list": [text, {"k": text}]}, {"k": {text or "k": [[text]]}}):
        fast = plain_yaml.dump(document)
        if fast is not None:
            assert fast == _pyyaml_dump(document)
            assert yaml.safe_load(fast) == document


@pytest.mark.parametrize("ending", ["", "\n", "\n\n", "\n\n\n"])
def test_text_of_several_lines_matches_pyyaml(ending: str) -> None:
    for first in LINES:
        for second in LINES:
            text = f"{first}\n{second}{ending}"
            for document in ({"k": text}, {"l": [text, {"m": text}]}, {"a": {"b": {"c": text}}}):
                fast = plain_yaml.dump(document)
                if fast is not None:
                    assert fast == _pyyaml_dump(document), repr(text)


def test_long_strings_fold_only_in_pyyaml() -> None:
    for length in range(100, 130):
        words = {"k": ("word " * 40)[:length].strip(), "long": "x" * length}
        fast = plain_yaml.dump(words)
        assert fast is None or fast == _pyyaml_dump(words)
    assert plain_yaml.dump({"image": "registry.example.com/" + "a" * 200}) is not None  # no space: never folded


def test_shared_lists_and_maps_are_left_to_pyyaml_for_their_anchors() -> None:
    shared: list[Any] = [1, 2]
    document = {"a": shared, "b": shared}
    assert plain_yaml.dump(document) is None
    assert to_yaml(document) == _pyyaml_dump(document) == "a: &id001\n- 1\n- 2\nb: *id001\n"


def test_what_plain_yaml_cannot_write_pyyaml_still_does() -> None:
    for document in ({"k": 1e20}, {"k": float("inf")}, {"k": "é"}, {1: "int key"}, {"k": (1, 2)}, {"k": "a\tb"}):
        assert plain_yaml.dump(document) is None
    assert to_yaml({"k": "é"}) == "k: é\n"
    assert to_yaml({"k": 1.5, "e": {}, "l": [], "n": None, "t": True}) == "k: 1.5\ne: {}\nl: []\nn: null\nt: true\n"


def test_a_compile_does_not_import_pyyaml() -> None:
    probe = (
        "import sys; from aicrc.api import load_library; "
        f"print(load_library([]).compile_file({str(RECIPES[0])!r}).render('yaml')[:0], 'yaml' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


_KEYS = st.sampled_from(EDGES[:-3]) | st.text(alphabet="ab1.:-# '\"?!&*%@`[]{},|>=<~", min_size=1, max_size=6)
_SCALARS = (
    _KEYS
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.none()
    | st.lists(st.sampled_from(LINES), min_size=2, max_size=4).map("\n".join)
)
_DOCUMENTS = st.dictionaries(
    _KEYS,
    st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3), max_leaves=12),
    min_size=1,
    max_size=4,
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_DOCUMENTS)
def test_random_documents_match_pyyaml_or_are_left_to_it(document: dict[str, Any]) -> None:
    fast = plain_yaml.dump(document)
    if fast is not None:
        assert fast == _pyyaml_dump(document)
