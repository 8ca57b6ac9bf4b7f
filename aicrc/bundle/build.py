"""A bundle from a recipe: each deployer's files, the compiled recipe as recipe.yaml, an SBOM of the
charts and images (sbom.cdx.json), checksums.txt.

Node placement and a registry mirror, when given, are applied to the recipe first, so every
deployer and the SBOM see the values and references that will be installed; recipe.yaml stays the
compiled recipe as given.

With one deployer its files are the bundle; with several, each deployer's bundle goes in a folder
named after it, and a checksums.txt at the top covers them all (theirs included), so the whole and
each part verify alike. A GitOps deployer (argocd, flux) is given the Git repository the bundle is
pushed to, with its folder in it: `DEPLOYER/` when there are several.
"""

from __future__ import annotations

from collections.abc import Sequence

from aicrc.bundle import deployers, mirror, placement, sbom
from aicrc.bundle.checksums import add_checksums
from aicrc.bundle.deployers.base import Deployer, GitOpsDeployer, Repository
from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Recipe
from aicrc.compiler.emit.text import to_yaml

RECIPE_FILE = "recipe.yaml"


def build_bundle(
    recipe: Recipe,
    deployer_names: Sequence[str],
    repository: Repository | None = None,
    *,
    place: placement.Placement | None = None,
    registry_mirror: str | None = None,
) -> Bundle:
    if place is not None:
        recipe = placement.apply(recipe, place)
    if registry_mirror is not None:
        recipe = mirror.rewrite(recipe, registry_mirror)
    chosen = [deployers.load(name) for name in dict.fromkeys(deployer_names)]
    if len(chosen) == 1:
        return _one(recipe, chosen[0], repository)
    bundle = Bundle()
    for deployer in chosen:
        bundle.include(deployer.name, _one(recipe, deployer, repository.within(deployer.name) if repository else None))
    add_checksums(bundle)
    return bundle


def uses_repository(deployer_names: Sequence[str]) -> bool:
    """Whether any of these deployers points at the Git repository its bundle is pushed to."""
    return any(isinstance(deployers.load(name), GitOpsDeployer) for name in deployer_names)


def _one(recipe: Recipe, deployer: Deployer | GitOpsDeployer, repository: Repository | None) -> Bundle:
    bundle = deployer.render(recipe, repository) if isinstance(deployer, GitOpsDeployer) else deployer.render(recipe)
    bundle.add(RECIPE_FILE, to_yaml(dict(recipe.document)))  # what `aicrc compile` prints, byte for byte
    bundle.add(sbom.NAME, sbom.render(recipe))
    add_checksums(bundle)
    return bundle
