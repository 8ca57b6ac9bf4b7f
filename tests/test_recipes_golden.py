"""tests/golden/recipes/<name>.yaml is the compiled output of recipes/<name>.aicr, so every value of
every shipped recipe is pinned and a library change shows up as a reviewable diff.
`pytest --snapshot-update` rewrites them."""

from __future__ import annotations

from pathlib import Path

import pytest

import aicrc
from tests.conftest import GOLDEN, ROOT

RECIPES = sorted((ROOT / "recipes").glob("*.aicr"))
GOLDEN_RECIPES = GOLDEN / "recipes"


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.stem for r in RECIPES])
def test_recipe_matches_golden(recipe: Path, library: aicrc.Library, update_goldens: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # files are shown relative to the repository, as a user there sees them
    text = library.compile_file(recipe.relative_to(ROOT)).render("yaml")
    golden = GOLDEN_RECIPES / f"{recipe.stem}.yaml"
    if update_goldens:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing: run pytest --snapshot-update and review it"
    assert text == golden.read_text(encoding="utf-8")


def test_every_golden_has_a_recipe(update_goldens: bool) -> None:
    orphans = sorted(g.name for g in GOLDEN_RECIPES.glob("*.yaml") if not (ROOT / "recipes" / f"{g.stem}.aicr").is_file())
    if update_goldens:
        for name in orphans:
            (GOLDEN_RECIPES / name).unlink()
        return
    assert orphans == [], "goldens without a recipe in recipes/"


FIGURES = {
    "blackwell-eks-training.stats.txt": ["stats", "recipes/blackwell-eks-training.aicr"],
    "blackwell-eks-inference.stats.txt": ["stats", "recipes/blackwell-eks-inference.aicr"],
    "blackwell-training-to-inference.diff.txt": ["diff", "recipes/blackwell-eks-training.aicr", "recipes/blackwell-eks-inference.aicr"],
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_headline_figures_are_pinned(
    name: str, update_goldens: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's figures: `aicrc stats` of both Blackwell recipes and `aicrc diff` between them."""
    from aicrc.cli import main

    monkeypatch.chdir(ROOT)
    main(FIGURES[name])
    text = capsys.readouterr().out
    golden = GOLDEN / "figures" / name
    if update_goldens:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_matrix_compiles_every_combination_and_every_shipped_recipe(library: aicrc.Library) -> None:
    from aicrc.tools.matrix import matrix

    dimensions, combinations, files = matrix(library, RECIPES)
    assert dimensions == ["service", "accelerator", "os", "intent", "platform"]
    assert len(combinations) == 5 * 6 * 4 * 2 * 2  # service x accelerator x os x intent x platform
    assert [r.subject for r in combinations if not r.ok] == []
    assert [r.subject for r in files if not r.ok] == []
    generic = next(r for r in combinations if r.subject == "gke gb200 ubuntu training kubeflow")
    assert generic.note.startswith("accelerator=gb200") and "matched no specific layer" in generic.note
