"""Evaluation: criteria, layer precedence, Helm merge semantics, provenance, conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest

import aicrc
from aicrc.compiler.evaluate.values import Assignment, Origin, ValueTree
from tests.conftest import ROOT
from tests.helpers import codes, library_with

ORIGIN = Origin("test", "base", None)


def tree_after(*assignments: tuple[tuple[str, ...], object]) -> ValueTree:
    tree = ValueTree()
    for path, value in assignments:
        tree.apply(Assignment("c", path, value, ORIGIN))
    return tree


def test_maps_merge_scalars_and_lists_replace() -> None:
    tree = tree_after((("a", "x"), 1), (("a", "y"), [1]), (("a", "y"), [2, 3]), (("a", "x"), "s"))
    assert tree.values == {"a": {"x": "s", "y": [2, 3]}}
    assert [c.value for c in tree.history[("a", "x")]] == [1, "s"]


def test_null_is_kept_and_a_deeper_set_brings_the_key_back() -> None:
    assert tree_after((("a", "b"), 1), (("a",), None)).values == {"a": None}
    assert tree_after((("a",), None), (("a", "b"), 1)).values == {"a": {"b": 1}}


def test_scalar_replacing_a_map_keeps_what_it_replaced_in_the_history() -> None:
    tree = tree_after((("a", "b"), 1), (("a", "c"), 2), (("a",), False))
    assert tree.values == {"a": False}
    assert [(c.path, c.value) for c in tree.history[("a",)]] == [(("a", "b"), 1), (("a", "c"), 2), (("a",), False)]
    assert list(tree.history) == [("a",)]


def test_empty_map_is_a_value_until_keys_arrive() -> None:
    tree = tree_after((("a",), {}), (("a", "b"), 1))
    assert tree.values == {"a": {"b": 1}} and list(tree.history) == [("a", "b")]
    assert tree_after((("a", "b"), 1), (("a",), {})).values == {"a": {"b": 1}}


def test_set_through_a_scalar_or_list_is_an_error() -> None:
    for blocker in ("x", [1], 3):
        with pytest.raises(aicrc.AicrcError) as caught:
            tree_after((("a",), blocker), (("a", "b"), 1))
        assert codes(caught.value) == ["E0402"]


def test_aliases_case_and_any(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = library_with(tmp_path, {}, monkeypatch)
    compiled = library.compile({"Service": "EKS", "accelerator": "GB", "intent": "any"})
    assert compiled.document["metadata"]["criteria"] == {"service": "eks", "accelerator": "gb200"}


def test_defaults_follow_other_dimensions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = library_with(tmp_path, {}, monkeypatch)
    assert library.compile({"intent": "inference"}).document["metadata"]["criteria"]["platform"] == "dynamo"
    assert library.compile({"intent": "inference", "platform": "kubeflow"}).document["metadata"]["criteria"]["platform"] == "kubeflow"


def test_higher_kind_beats_more_specific_lower_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = library_with(
        tmp_path,
        {
            "l.aicr": """
            layer specific: environment when service == eks and accelerator == h100 and intent == training { set cert-manager.v = "env" }
            layer general: hardware { set cert-manager.v = "hw" }
            """
        },
        monkeypatch,
    )
    compiled = library.compile({"service": "eks", "accelerator": "h100", "intent": "training"})
    assert compiled.query("components.cert-manager.values.v") == "hw"
    (story,) = compiled.explain("cert-manager.v")
    assert [c.origin.layer for c in story.chain] == ["specific", "general"]


def test_equal_precedence_agreement_is_fine_disagreement_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "l.aicr": """
        layer a: environment when service == gke { set cert-manager.v = 1  use trainer  require X.y.z >= "1" }
        layer b: environment when accelerator == h100 { set cert-manager.v = 1  drop trainer  require X.y.z >= "2" }
        layer c: environment when intent == training { set cert-manager.v.deep = true }
        """
    }
    library = library_with(tmp_path, files, monkeypatch)
    with pytest.raises(aicrc.AicrcError) as caught:
        library.compile({"service": "gke", "accelerator": "h100", "intent": "training"})
    messages = [d.message for d in caught.value.diagnostics]
    assert codes(caught.value) == ["E0401"] * 4
    assert any("component `trainer`" in m for m in messages)
    assert any("constraint `X.y.z`" in m for m in messages)
    assert sum("`cert-manager.v`" in m for m in messages) == 2  # a and b each clash with c's deeper key
    # true and 1 are different values even though Python says True == 1
    assert library.compile({"service": "gke", "accelerator": "l40s"}).query("components.cert-manager.values.v") == 1


def test_features_apply_at_the_enabling_layers_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "l.aicr": """
        feature loud { set cert-manager.level = "loud" }
        layer quiet: environment { set cert-manager.level = "quiet" }
        layer enabler: base { enable loud }
        """
    }
    compiled = library_with(tmp_path, files, monkeypatch).compile({})
    assert compiled.query("components.cert-manager.values.level") == "quiet"


def test_constraints_replace_by_path_and_checks_accumulate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = library_with(tmp_path, {}, monkeypatch)
    document = library.compile({"service": "eks", "intent": "training"}).document
    assert document["constraints"] == [{"name": "K8s.server.version", "operator": ">=", "value": "1.28", "layer": "eks"}]
    assert document["checks"] == {"conformance": ["robust-controller"], "deployment": ["gpu-operator-health"]}


def test_layer_sets_for_absent_components_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"l.aicr": "layer l: environment { set trainer.x = 1 }"}
    document = library_with(tmp_path, files, monkeypatch).compile({"service": "kind"}).document
    assert [c["name"] for c in document["components"]] == ["cert-manager", "gpu-operator"]


def test_every_leaf_has_a_provenance_chain() -> None:
    compiled = aicrc.compile_file(ROOT / "recipes" / "blackwell-eks-training.aicr")
    for component in compiled.resolved.components.values():
        from aicrc.compiler.evaluate.values import leaf_paths

        assert set(leaf_paths(component.values)) == set(component.history), component.name
        for chain in component.history.values():
            assert chain and all(c.origin.span is not None for c in chain)


def test_schema_warnings_are_the_same_for_a_library_compiled_many_times(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the verdicts on defaults are remembered with the component: a compile that overrides a bad
    # default, or sets a bad value over a good one, must still see exactly its own warnings
    files = {
        "widget.aicr": 'component widget {\n    chart widget from "https://example.com/charts" version "1.2.0"\n'
        '    namespace widgets\n    schema "widget.schema.json"\n    values { replicas = "one"  image.tag = "v1" }\n}\n'
        "layer widget-everywhere: base { use widget }\n"
        "layer widget-eks: environment when service == eks { set widget.image.tag = 5 }\n"
        "layer widget-gke: environment when service == gke { set widget.replicas = 2 }\n",
        "widget.schema.json": '{"type": "object", "properties": {"replicas": {"type": "integer"},'
        ' "image": {"type": "object", "properties": {"tag": {"type": "string"}}}}}',
    }
    library = library_with(tmp_path / "once", files, monkeypatch)

    def schema_warnings(compiled: aicrc.Compilation) -> list[tuple[str, str]]:
        return [(w.code, w.message) for w in compiled.warnings if w.code in ("W0002", "W0003")]

    for service in ("kind", "eks", "gke", "kind", "eks", "gke"):
        again = schema_warnings(library.compile({"service": service}))
        fresh = schema_warnings(library_with(tmp_path / service, files, monkeypatch).compile({"service": service}))
        assert again == fresh, service
    assert [message for _, message in fresh] == []  # gke sets replicas to an integer; the tag default is a string
    eks = schema_warnings(library.compile({"service": "eks"}))
    assert [code for code, _ in eks] == ["W0003", "W0003"], eks  # the bad default and the bad tag
