"""Loading: search roots, imports, overlays extending the library, duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

import aicrc
from tests.helpers import codes, library_with


def test_import_searches_stdlib_then_overlays_then_the_recipe_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = library_with(tmp_path, {"shared/feature.aicr": 'feature f { set cert-manager.from = "overlay" }'}, monkeypatch)
    recipes = tmp_path / "recipes"
    (recipes / "shared").mkdir(parents=True)
    (recipes / "shared" / "feature.aicr").write_text('feature g { set cert-manager.from = "recipe folder" }')
    (recipes / "r.aicr").write_text('import "shared/feature"\nrecipe r { enable f }')
    # overlay files are loaded whole already; the import resolves to the same file, not a second copy
    assert library.compile_file(recipes / "r.aicr").query("components.cert-manager.values.from") == "overlay"


def test_relative_import_loads_a_sibling_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = library_with(tmp_path, {}, monkeypatch)
    (tmp_path / "a.aicr").write_text("feature f { set cert-manager.x = 1 }")
    (tmp_path / "r.aicr").write_text('import "./a"\nimport "./a.aicr"\nrecipe r { enable f }')
    assert library.compile_file(tmp_path / "r.aicr").query("components.cert-manager.values.x") == 1


def test_extend_dimension_of_an_unknown_dimension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(aicrc.AicrcError) as caught:
        library_with(tmp_path, {"x.aicr": "extend dimension acelerator { values mi300 }"}, monkeypatch)
    assert codes(caught.value) == ["E0303"]
    assert caught.value.diagnostics[0].help == "did you mean `accelerator`?"


def test_all_syntax_errors_of_a_library_are_reported_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(aicrc.AicrcError) as caught:
        library_with(tmp_path, {"a.aicr": "layer {", "b.aicr": 'component c { values { x = "open } }'}, monkeypatch)
    assert codes(caught.value) == ["E0101", "E0102"]
    assert [Path(d.span.file).name for d in caught.value.diagnostics] == ["a.aicr", "b.aicr"]


def test_missing_overlay_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(aicrc.AicrcError) as caught:
        aicrc.load_library(["/no/such/folder"], use_env=False)
    assert codes(caught.value) == ["E0104"]


def test_manifest_file_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"c.aicr": 'component extra { kind manifests  namespace x  manifest "missing.yaml" }\nlayer l: base { use extra }'}
    with pytest.raises(aicrc.AicrcError) as caught:
        library_with(tmp_path, files, monkeypatch).compile({})
    assert codes(caught.value) == ["E0306"]
    assert "missing.yaml" in caught.value.diagnostics[0].message
