"""The language server's analysis without the protocol: half-typed files never raise, and the
contexts completion recognises."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aicrc.lsp import features
from aicrc.lsp.analysis import Workspace
from aicrc.source import Span
from tests.conftest import ROOT

RECIPES = sorted((ROOT / "recipes").glob("*.aicr"))


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    return Workspace(ROOT)


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_every_keystroke_prefix_is_analysed(workspace: Workspace, recipe: Path) -> None:
    """Typing the recipe from the first character to the last: each prefix is analysed, hovered
    and completed at the cursor without an exception, and the whole file analyses clean."""
    text = recipe.read_text(encoding="utf-8")
    for end in range(len(text) + 1):
        prefix = text[:end]
        analysis = workspace.analyse(recipe, prefix)
        lines = prefix.split("\n")
        line, col = len(lines), len(lines[-1]) + 1
        features.complete(workspace, analysis, line, col)
        features.hover(workspace, analysis, line, max(col - 1, 1))
        features.definition(analysis, line, max(col - 1, 1))
        features.symbols(analysis)
    assert [d for d in workspace.analyse(recipe, text).diagnostics if d.severity == "error"] == []


@pytest.mark.parametrize("library_file", sorted((ROOT / "stdlib" / "layers").glob("*.aicr")), ids=lambda p: p.stem)
def test_library_file_prefixes_are_analysed(workspace: Workspace, library_file: Path) -> None:
    """Library files are long, and each prefix that parses reloads the library: every 11th."""
    text = library_file.read_text(encoding="utf-8")
    for end in [*range(0, len(text), 11), len(text)]:
        analysis = workspace.analyse(library_file, text[:end])
        lines = text[:end].split("\n")
        features.complete(workspace, analysis, len(lines), len(lines[-1]) + 1)
    assert workspace.analyse(library_file, text).diagnostics == []


def _complete(workspace: Workspace, text: str, path: Path = ROOT / "recipes" / "typing.aicr") -> set[str]:
    analysis = workspace.analyse(path, text.replace("|", ""))
    before = text[: text.index("|")]
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + 1
    return {c.label for c in features.complete(workspace, analysis, line, col)}


def test_completion_contexts(workspace: Workspace) -> None:
    assert {"recipe", "layer", "component"} <= _complete(workspace, "|")
    assert {"use", "set", "values", "service", "accelerator"} <= _complete(workspace, "recipe r {\n    |\n}\n")
    assert {"gpu-operator", "kgateway"} <= _complete(workspace, "recipe r {\n    use |\n}\n")
    assert {"cdi", "gdrcopy", "standalone-nfd", "monitoring-crds-first", "node-problem-detector"} == _complete(
        workspace, "recipe r {\n    enable |\n}\n"
    )
    assert {"gb200", "hopper", "l40", "any"} <= _complete(workspace, "recipe r {\n    accelerator = |\n}\n")
    assert {"training", "inference"} == _complete(workspace, "layer x: intent when intent == |")
    assert {"version", "enabled", "useOpenKernelModules"} & _complete(workspace, "recipe r {\n    set gpu-operator.driver.|\n}\n")
    assert {"enabled", "default"} <= _complete(workspace, "recipe r {\n    values gpu-operator {\n        cdi {\n            |\n}\n")
    assert {"environment", "hardware"} <= _complete(workspace, "layer x: |")
    component = "component gpu-operator {\n    namespace gpu-operator\n    values {\n        driver {\n            |\n"
    assert {"version", "kernelModuleType", "upgradePolicy"} <= _complete(workspace, component, ROOT / "stdlib" / "components" / "x.aicr")


def test_definition_of_an_import(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "shared.aicr").write_text("feature extra { set gpu-operator.driver.enabled = true }\n", encoding="utf-8")
    recipe = tmp_path / "r.aicr"
    text = 'import "./shared"\nrecipe r {\n    service = eks\n    enable extra\n}\n'
    analysis = workspace.analyse(recipe, text)
    assert analysis.diagnostics == []
    assert features.definition(analysis, 1, 10) == ((tmp_path / "shared.aicr").resolve(), Span(str(tmp_path / "shared.aicr"), 1, 1, 1, 1))
    target = features.definition(analysis, 4, 13)  # `extra`
    assert target is not None and target[0] == tmp_path / "shared.aicr" and target[1].line == 1


def test_hover_and_definition_in_a_library_layer(workspace: Workspace) -> None:
    layer = ROOT / "stdlib" / "layers" / "eks.aicr"
    text = layer.read_text(encoding="utf-8")
    analysis = workspace.analyse(layer, text)
    assert analysis.library_file and analysis.diagnostics == []
    index = text.index("set nfd.topologyUpdater.enable") + len("set nfd.topo")
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    found = features.hover(workspace, analysis, line, col)
    assert found is not None and "nfd.topologyUpdater.enable = true" in found[0]
    target = features.definition(analysis, line, col - 8)  # on `nfd`
    assert target is not None and target[0].name == "nfd.aicr"


def test_unsaved_library_edit_is_seen(workspace: Workspace) -> None:
    """A library file's buffer, not the disk, is what the document is checked against."""
    layer = ROOT / "stdlib" / "layers" / "eks.aicr"
    text = layer.read_text(encoding="utf-8").replace("use aws-ebs-csi-driver", "use aws-ebs-csi-drivr")
    analysis = workspace.analyse(layer, text)
    [problem] = [d for d in analysis.diagnostics if d.code == "E0301"]
    assert "aws-ebs-csi-drivr" in problem.message and problem.span is not None and problem.span.file == "<stdlib>/layers/eks.aicr"


EDITS = st.sampled_from(
    ["", "{", "}", "[", "]", '"', "=", ".", ",", "#", "\n", " ", "when ", "set ", "gpu-operator.", "values x {", "==", "é"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([*RECIPES, ROOT / "stdlib" / "layers" / "eks.aicr", ROOT / "stdlib" / "components" / "gpu-operator.aicr"]),
    st.data(),
)
def test_random_edits_never_raise(file: Path, data: st.DataObject) -> None:
    """Any edit of a real file (a span cut out, tokens typed in its place) analyses, hovers,
    completes and finds definitions at any position without an exception."""
    workspace = _shared_workspace()
    text = file.read_text(encoding="utf-8")
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 40)))
    edited = text[:start] + "".join(data.draw(st.lists(EDITS, max_size=4))) + text[end:]
    analysis = workspace.analyse(file, edited)
    lines = edited.split("\n")
    line = data.draw(st.integers(1, len(lines)))
    col = data.draw(st.integers(1, len(lines[line - 1]) + 1))
    features.complete(workspace, analysis, line, col)
    features.hover(workspace, analysis, line, col)
    features.definition(analysis, line, col)
    features.symbols(analysis)


_WORKSPACE: list[Workspace] = []


def _shared_workspace() -> Workspace:
    """One workspace for all examples (hypothesis does not combine with pytest fixtures)."""
    if not _WORKSPACE:
        _WORKSPACE.append(Workspace(ROOT))
    return _WORKSPACE[0]
