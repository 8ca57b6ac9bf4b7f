"""The public API, as the language server, bundlers and API server will use it."""

from __future__ import annotations

import aicrc
from aicrc.compiler.emit.model import CompiledRecipe
from tests.conftest import ROOT


def test_load_once_compile_many() -> None:
    library = aicrc.load_library(use_env=False)
    from_source = library.compile_source("recipe r { service = eks  accelerator = gb200  os = ubuntu  intent = training }")
    from_criteria = library.compile({"service": "eks", "accelerator": "gb200", "os": "ubuntu", "intent": "training"})
    assert from_source.document["components"] == from_criteria.document["components"]
    assert from_criteria.document["metadata"]["name"] == "eks-gb200-ubuntu-training-kubeflow"
    # the shipped recipe is the same cluster plus the opt-in features it enables
    from_file = library.compile_file(ROOT / "recipes" / "blackwell-eks-training.aicr")
    added = {c["name"] for c in from_file.document["components"]} - {c["name"] for c in from_criteria.document["components"]}
    assert added == {"nfd", "prometheus-operator-crds", "node-problem-detector"}
    other = library.compile({"service": "eks", "accelerator": "h100", "intent": "training"})
    skyhook = next(c for c in other.document["components"] if c["name"] == "skyhook-customizations")
    manifests = [m["name"] for m in skyhook["manifests"]]
    assert manifests == ["<stdlib>/components/manifests/skyhook-tuning-h100-eks-training.yaml"]


def test_compile_source_and_model() -> None:
    compiled = aicrc.compile_source('recipe inline { service = eks  set gpu-operator.driver.version = "1" }')
    recipe = compiled.recipe
    assert isinstance(recipe, CompiledRecipe)
    assert recipe.component("gpu-operator").values["driver"]["version"] == "1"
    assert recipe.deployment_order == compiled.document["deploymentOrder"]


def test_errors_render_with_their_source() -> None:
    try:
        aicrc.compile_source("recipe r { accelerator = gb2000 }", name="inline.aicr")
    except aicrc.AicrcError as failure:
        text = failure.render()
    else:  # pragma: no cover
        raise AssertionError("expected an error")
    assert "inline.aicr:1:12" in text and "recipe r { accelerator = gb2000 }" in text and "did you mean `gb200`?" in text


def test_overrides() -> None:
    override = aicrc.parse_override("gpu-operator:driver.version=580.1")
    compiled = aicrc.load_library(use_env=False).compile_file(ROOT / "recipes" / "blackwell-eks-training.aicr", overrides=[override])
    (story,) = compiled.explain("gpu-operator.driver.version")
    assert story.value == 580.1 and story.chain[-1].origin.kind == "command-line"
