"""The language server re-analyses a library file alone when an edit leaves what the file shows
the rest of the library as it was (`analysis.with_edited_file`), and gets what a full reload
would; any other edit reloads the library."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import aicrc
from aicrc.compiler.load import loader
from aicrc.compiler.syntax.parser import parse
from aicrc.lsp.analysis import Workspace, with_edited_file
from aicrc.source import SourceFile
from tests.conftest import FLAGSHIP, ROOT


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace with a copy of the standard library (so that edits stay in the test)."""
    shutil.copytree(ROOT / "stdlib", tmp_path / "stdlib")
    shutil.copytree(ROOT / "recipes", tmp_path / "recipes")
    monkeypatch.setenv("AICRC_STDLIB", str(tmp_path / "stdlib"))
    monkeypatch.delenv("AICRC_PATH", raising=False)
    return tmp_path


def _document(program: loader.Program) -> dict[str, object]:
    return aicrc.Library(program).compile_file(FLAGSHIP).document


def _shortcut(workspace: Workspace, path: Path, text: str) -> loader.Program | None:
    """The program the shortcut makes, or None when it declines."""
    library = workspace.library()
    source = SourceFile(library.resolved_paths[path.resolve()], text, path)
    return with_edited_file(library, source, parse(source, store=False))


def _edit(copy: Path, edit: tuple[str, str, str]) -> tuple[Path, str, str]:
    """The library file an edit (file, old, new) is of, its text, and that text with the edit made
    (it must apply)."""
    relative, old, new = edit
    path = copy / "stdlib" / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    return path, text, text.replace(old, new, 1)


EDITS = {
    "a component's value": ("components/gpu-operator.aicr", "enabled = true", "enabled = false"),
    "a layer's value": ("layers/eks.aicr", "set ", "set gpu-operator.shortcut.tested = true\n    set "),
    "a comment": ("layers/base.aicr", "\n", "\n# a comment typed in\n"),
    "a feature": ("features.aicr", "{", "{ set gpu-operator.from.feature = 1 "),
}


@pytest.mark.parametrize("what", EDITS)
def test_an_edit_inside_a_file_gets_what_a_reload_gets(what: str, copy: Path) -> None:
    path, text, edited = _edit(copy, EDITS[what])
    workspace = Workspace(copy)
    quick = _shortcut(workspace, path, edited)
    full = loader.load_library(workspace.library().roots, texts={path.resolve(): edited})
    assert quick is not None
    assert _document(quick) == _document(full)
    assert quick.component_defs.keys() == full.component_defs.keys() and quick.bodies.keys() == full.bodies.keys()
    assert quick.sources[quick.resolved_paths[path.resolve()]].text == edited
    assert workspace.library().sources[quick.resolved_paths[path.resolve()]].text == text  # the library itself is untouched


RELOADS = {
    "a component renamed": ("components/nfd.aicr", "component nfd", "component nfd-renamed"),
    "a layer added": ("layers/eks.aicr", "\n", "\nlayer extra: os { }\n"),
    "a use removed": ("layers/base.aicr", "use ", "# use "),
    "a dimension's value": ("dimensions.aicr", "values ", "values extra, "),
}


@pytest.mark.parametrize("what", RELOADS)
def test_an_edit_of_what_a_file_declares_or_uses_reloads(what: str, copy: Path) -> None:
    path, _, edited = _edit(copy, RELOADS[what])
    assert _shortcut(Workspace(copy), path, edited) is None


def test_the_workspace_reports_what_a_reload_would(copy: Path) -> None:
    """A renamed component breaks the files that use it: the reload (not the shortcut) says so."""
    path = copy / "stdlib" / "components" / "nfd.aicr"
    workspace = Workspace(copy)
    analysis = workspace.analyse(path, path.read_text(encoding="utf-8").replace("component nfd", "component nfd-renamed", 1))
    assert any("nfd" in diagnostic.message for diagnostic in analysis.diagnostics)
    value_edit = workspace.analyse(path, path.read_text(encoding="utf-8").replace("master.enable = true", "master.enable = false", 1))
    assert value_edit.program is not None and not [d for d in value_edit.diagnostics if d.severity == "error"]
