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


@pytest.fixture(scope="module")
def library() -> aicrc.Library:
    return aicrc.load_library(use_env=False)


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
