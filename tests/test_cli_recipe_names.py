"""A recipe NAME compiles the recipe aicrc ships, from any directory; a file where the user stands
always wins; when there is neither, E0104 names the shipped recipes and suggests the closest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aicrc.cli import main
from aicrc.resources import recipes_dir
from tests.conftest import ROOT


def _compiled(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_recipes_ship_beside_the_library() -> None:
    assert recipes_dir() == ROOT / "recipes"  # a checkout; a wheel has them in aicrc/recipes (pyproject's force-include)


@pytest.mark.parametrize("name", ["blackwell-eks-training", "blackwell-eks-training.aicr"])
def test_a_name_compiles_the_shipped_recipe_from_anywhere(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = _compiled(["compile", str(ROOT / "recipes" / "blackwell-eks-training.aicr")], capsys)
    monkeypatch.chdir(tmp_path)
    assert _compiled(["compile", name], capsys) == expected


def test_every_command_that_takes_a_recipe_takes_a_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _compiled(["query", "kind-training", "metadata.name"], capsys) == "kind-training\n"
    assert "gpu-operator.driver.version = " in _compiled(["explain", "blackwell-eks-training", "gpu-operator.driver.version"], capsys)
    assert json.loads(_compiled(["stats", "kind-training", "--format", "json"], capsys))
    assert main(["diff", "blackwell-eks-training", "blackwell-eks-inference.aicr"]) == 1  # they differ
    assert "components swapped" in capsys.readouterr().out
    assert main(["matrix", "kind-training", "--format", "json"]) == 0
    assert [row["ok"] for row in json.loads(capsys.readouterr().out)["recipes"]] == [True]


def test_a_file_where_the_user_stands_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kind-training.aicr").write_text("recipe mine { service = kind  accelerator = h100  intent = training }")
    assert _compiled(["query", "kind-training.aicr", "metadata.name"], capsys) == "mine\n"
    assert _compiled(["query", "kind-training", "metadata.name"], capsys) == "mine\n"


def test_neither_a_file_nor_a_shipped_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["compile", "blackwell-eks-trainig"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error[E0104]: no such file: blackwell-eks-trainig\n")
    assert "= note: shipped recipes, compiled by name: a100-oke-training, blackwell-eks-inference, blackwell-eks-training," in err
    assert "= help: did you mean `blackwell-eks-training`?" in err
    # a path with folders is never a shipped name, but the hint still helps
    assert main(["compile", "elsewhere/blackwell-eks-training.aicr"]) == 1
    assert "did you mean `blackwell-eks-training`?" in capsys.readouterr().err
    assert main(["diff", "nope", "kind-training"]) == 2  # diff: an input has errors
    assert "error[E0104]: no such file: nope" in capsys.readouterr().err
