"""The shortcuts that make a compile fast give exactly what the long way gave: the solver's own
Kahn pass (networkx's order and waves), component defaults built once per definition and copied
on write, what a definition's schema allows remembered with it, and a band of equal-precedence
layers checked in one pass before pair by pair."""

from __future__ import annotations

import gc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aicrc
from aicrc.compiler.evaluate.memo import PerObject
from aicrc.compiler.evaluate.values import Assignment, Origin, ValueTree
from aicrc.compiler.solve import solve
from tests.helpers import codes, library_with

# ---- solving ------------------------------------------------------------------------------------


@st.composite
def dependency_graphs(draw: Any) -> dict[str, list[str]]:
    """Components named so that alphabetical and creation order differ; each needs some of the
    components created before it (so the graph has no cycle)."""
    names = draw(st.lists(st.text("abcdefgh", min_size=1, max_size=3), min_size=1, max_size=25, unique=True))
    graph: dict[str, list[str]] = {}
    for index, name in enumerate(names):
        graph[name] = draw(st.lists(st.sampled_from(names[:index]), unique=True)) if index else []
    return graph


@settings(max_examples=300, deadline=None)
@given(dependency_graphs())
def test_order_and_waves_are_networkx_s(graph: dict[str, list[str]]) -> None:
    components = {name: SimpleNamespace(needs=dict.fromkeys(needs)) for name, needs in graph.items()}
    plan = solve(SimpleNamespace(components=components, dropped={}))  # type: ignore[arg-type]

    reference = nx.DiGraph()
    reference.add_nodes_from(sorted(graph))
    reference.add_edges_from(sorted((dependency, name) for name, needs in graph.items() for dependency in needs))
    assert plan.order == tuple(nx.lexicographical_topological_sort(reference))
    assert plan.waves == {name: wave for wave, generation in enumerate(nx.topological_generations(reference)) for name in generation}


# ---- remembered per definition, copied on write ---------------------------------------------------------


def test_a_remembered_value_goes_with_its_owner() -> None:
    class Owner:
        pass

    memo: PerObject[list[int]] = PerObject()
    owner, computed = Owner(), []
    assert memo.get(owner, lambda: computed.append(1) or [1]) == [1]
    assert memo.get(owner, lambda: computed.append(2) or [2]) == [1] and computed == [1]
    del owner
    gc.collect()
    assert len(memo) == 0


def _assign(tree: ValueTree, path: tuple[str, ...], value: Any) -> None:
    tree.apply(Assignment("c", path, value, Origin("layer", "base", None)))


def test_a_copied_tree_changes_without_changing_its_original() -> None:
    original = ValueTree()
    for path, value in [(("a", "b", "c"), 1), (("a", "b", "d"), [1]), (("a", "e"), {}), (("f",), "x")]:
        _assign(original, path, value)
    values, history = repr(original.values), {path: list(chain) for path, chain in original.history.items()}
    copy = original.copy()
    for path, value in [(("a", "b", "c"), 2), (("a", "e", "g"), True), (("a", "b"), "replaced"), (("h", "i"), None), (("a", "e2"), {})]:
        _assign(copy, path, value)
    assert repr(original.values) == values and original.history == history
    assert copy.values == {"a": {"b": "replaced", "e": {"g": True}, "e2": {}}, "f": "x", "h": {"i": None}}
    fresh = ValueTree()
    for path, value in [(("a", "b", "c"), 1), (("a", "b", "d"), [1]), (("a", "e"), {}), (("f",), "x")]:
        _assign(fresh, path, value)
    for path, value in [(("a", "b", "c"), 2), (("a", "e", "g"), True), (("a", "b"), "replaced"), (("h", "i"), None), (("a", "e2"), {})]:
        _assign(fresh, path, value)
    assert copy.values == fresh.values and copy.history == fresh.history


def test_compiles_against_one_library_do_not_leak_into_each_other(library: aicrc.Library) -> None:
    first = library.compile({"service": "eks", "accelerator": "gb200", "intent": "training"}).document
    other = library.compile({"service": "gke", "accelerator": "h100", "intent": "inference"}).document
    again = library.compile({"service": "eks", "accelerator": "gb200", "intent": "training"}).document
    assert first == again and first != other


# ---- equal precedence, in one pass first -------------------------------------------------------------

AGREEING = "\n".join(f"layer agree{i}: environment when service == gke {{ set cert-manager.extra.k{i} = {i} }}" for i in range(30))
DISAGREEING = {
    "a value": ('set gpu-operator.driver.version = "1"', 'set gpu-operator.driver.version = "2"'),
    "a key under a value": ('set gpu-operator.driver = "off"', 'set gpu-operator.driver.version = "2"'),
    "a component": ("use trainer", "drop trainer"),
    "a constraint": ('require K8s.server.version >= "1.30"', 'require K8s.server.version >= "1.31"'),
}


@pytest.mark.parametrize("what", DISAGREEING)
def test_a_disagreement_among_many_agreeing_layers_is_still_found(what: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, other = DISAGREEING[what]
    layers = (
        f"{AGREEING}\nlayer one: environment when service == gke {{ {one} }}\nlayer other: environment when service == gke {{ {other} }}\n"
    )
    library = library_with(tmp_path, {"layers.aicr": layers}, monkeypatch)
    with pytest.raises(aicrc.AicrcError) as caught:
        library.compile({"service": "gke"})
    assert codes(caught.value) == ["E0401"]
    assert "`one` and `other`" in caught.value.diagnostics[0].message or "`other` and `one`" in caught.value.diagnostics[0].message


# ---- the parser from prebuilt tables ------------------------------------------------------------------


def test_the_parser_from_its_tables_parses_as_the_grammar_does(tmp_path: Path) -> None:
    from aicrc.compiler.syntax import tables
    from aicrc.resources import grammar_file
    from tests.conftest import ROOT

    grammar = grammar_file().read_text(encoding="utf-8")
    tables.write(str(grammar_file()), str(tmp_path / "aicr.tables"))
    loaded = tables.load((tmp_path / "aicr.tables").read_bytes(), grammar)
    built = tables.build(grammar)
    assert loaded is not None
    for path in [*sorted((ROOT / "stdlib").rglob("*.aicr")), *sorted((ROOT / "recipes").glob("*.aicr"))]:
        text = path.read_text(encoding="utf-8")
        assert loaded.parse(text) == built.parse(text), path


def test_tables_for_another_grammar_or_lark_are_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lark

    from aicrc.compiler.syntax import tables
    from aicrc.resources import grammar_file

    grammar = grammar_file().read_text(encoding="utf-8")
    stored = tables.dump(tables.build(grammar), grammar)
    assert tables.load(stored, grammar + "\n// edited\n") is None
    assert tables.load(b"not tables", grammar) is None
    monkeypatch.setattr(lark, "__version__", "0.0.1")
    assert tables.load(stored, grammar) is None
