"""The argocd deployer: an Application per component (its chart at its version, values from the
bundle's repository as `$values`, sync wave = install wave), the extra manifests as Applications of
their own one wave later, an app of apps over applications/, and what the reference system's own
Argo CD bundles carry."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import aicrc
from aicrc.bundle.build import build_bundle
from aicrc.bundle.deployers.base import Repository
from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Recipe, from_document
from tests.conftest import ROOT

REFERENCE = ROOT / "tests" / "reference" / "aicr-v0.11.1" / "bundle"
REPOSITORY = Repository("https://git.example.com/platform/gpu-stack.git", "main")


@pytest.fixture(scope="module")
def bundle(flagship: Recipe) -> Bundle:
    return build_bundle(flagship, ["argocd"], REPOSITORY)


def load(bundle: Bundle, path: str) -> Any:
    (document,) = yaml.safe_load_all(bundle[path].content)
    return document


def applications(bundle: Bundle, folder: str = "") -> dict[str, Any]:
    found = [load(bundle, path) for path in bundle if path.startswith(f"{folder}applications/")]
    return {application["metadata"]["name"]: application for application in found}


def test_the_layout(flagship: Recipe, bundle: Bundle) -> None:
    expected = {"README.md", "app-of-apps.yaml", "recipe.yaml", "sbom.cdx.json", "checksums.txt"}
    for component in flagship.components:
        expected.add(f"applications/{component.name}.yaml")
        if component.chart:
            expected.add(f"{component.name}/values.yaml")
            if component.manifests:
                expected.add(f"applications/{component.name}.manifests.yaml")
        expected |= {f"{component.name}/manifests/{m.file_name}" for m in component.manifests}
    assert set(bundle) == expected
    assert "{{" not in "".join(file.content.decode() for file in bundle.values())  # no placeholder left to fill


def test_each_component_is_an_application_of_its_chart_with_values_from_the_repository(flagship: Recipe, bundle: Bundle) -> None:
    apps = applications(bundle)
    for component in flagship.components:
        application = apps[component.name]
        assert application["metadata"]["namespace"] == "argocd"
        assert application["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": str(component.wave)}
        spec = application["spec"]
        assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": component.namespace}
        assert "CreateNamespace=true" in spec["syncPolicy"]["syncOptions"] and spec["syncPolicy"]["automated"]["prune"]
        chart = component.chart
        if chart is None:
            continue
        source, values = spec["sources"]
        assert values == {"repoURL": REPOSITORY.url, "targetRevision": "main", "ref": "values"}
        assert source["targetRevision"] == chart.version and source["helm"]["releaseName"] == component.name
        (values_file,) = source["helm"]["valueFiles"]
        assert values_file == f"$values/{component.name}/values.yaml" and values_file.removeprefix("$values/") in bundle
        if chart.is_oci:  # Argo CD's OCI source: the whole reference, the version as its tag
            assert (source["repoURL"], source["path"]) == (chart.reference, ".") and "chart" not in source
        else:
            assert (source["repoURL"], source["chart"]) == (chart.repository, chart.name)
    assert apps["nvsentinel"]["spec"]["sources"][0]["repoURL"] == "oci://ghcr.io/nvidia/nvsentinel"


def test_extra_manifests_are_a_directory_of_the_repository_one_wave_later(flagship: Recipe, bundle: Bundle) -> None:
    apps = applications(bundle)
    for component in flagship.components:
        if not component.manifests:
            continue
        application = apps[f"{component.name}.manifests" if component.chart else component.name]
        wave = component.wave + 1 if component.chart else component.wave
        assert application["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == str(wave)
        source = application["spec"]["source"]
        assert (source["repoURL"], source["targetRevision"]) == (REPOSITORY.url, "main")
        in_folder = {path for path in bundle if path.startswith(source["path"] + "/")}
        assert in_folder == {f"{component.name}/manifests/{m.file_name}" for m in component.manifests}
        assert application["spec"]["destination"]["namespace"] == component.namespace
    assert apps["gpu-operator.manifests"]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "3"  # gpu-operator: 2


def test_the_app_of_apps_syncs_the_applications_folder_which_holds_only_applications(flagship: Recipe, bundle: Bundle) -> None:
    root = load(bundle, "app-of-apps.yaml")
    assert root["metadata"]["name"] == "blackwell-eks-training.bundle"
    assert root["spec"]["source"] == {
        "repoURL": REPOSITORY.url,
        "targetRevision": "main",
        "path": "applications",
        "directory": {"recurse": False},
    }
    assert all(load(bundle, path)["kind"] == "Application" for path in bundle if path.startswith("applications/"))
    assert root["metadata"]["name"] not in applications(bundle)


def test_a_wave_needs_only_earlier_waves(flagship: Recipe, bundle: Bundle) -> None:
    apps = applications(bundle)
    wave = {name: int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for name, app in apps.items()}
    for component in flagship.components:
        assert all(wave[need] < wave[component.name] for need in component.needs)


def test_beside_other_deployers_paths_lead_into_its_folder(flagship: Recipe) -> None:
    bundle = build_bundle(flagship, ["helm", "argocd"], REPOSITORY)
    apps = applications(bundle, "argocd/")
    assert load(bundle, "argocd/app-of-apps.yaml")["spec"]["source"]["path"] == "argocd/applications"
    assert apps["gpu-operator"]["spec"]["sources"][0]["helm"]["valueFiles"] == ["$values/argocd/gpu-operator/values.yaml"]
    assert apps["gpu-operator.manifests"]["spec"]["source"]["path"] == "argocd/gpu-operator/manifests"
    assert "argocd/gpu-operator/manifests/dcgm-exporter-metrics.yaml" in bundle
    assert "in its folder `argocd`" in bundle["argocd/README.md"].content.decode()


def test_the_readme_says_how_to_apply_and_what_argo_cd_needs(bundle: Bundle) -> None:
    readme = bundle["README.md"].content.decode()
    assert readme.startswith("# blackwell-eks-training: Argo CD bundle\n")
    for fact in (
        "`https://git.example.com/platform/gpu-stack.git` at revision `main`",
        "kubectl apply -f app-of-apps.yaml",
        "argocd app wait blackwell-eks-training.bundle --health",
        "resource.customizations.health.argoproj.io_Application",
        "Argo CD 3.1 or later for the charts in OCI registries",
        "| 3 | [gpu-operator.manifests](applications/gpu-operator.manifests.yaml) | manifests (1) |  | `gpu-operator` | gpu-operator |",
        "```mermaid\nflowchart LR\n",
    ):
        assert fact in readme, fact


@pytest.mark.parametrize(
    ("leaf", "recipe"),
    [("gb200-eks-ubuntu-training-kubeflow", "blackwell-eks-training"), ("gb200-eks-ubuntu-inference-dynamo", "blackwell-eks-inference")],
)
def test_against_the_reference_argocd_bundle(leaf: str, recipe: str, library: aicrc.Library) -> None:
    """Every chart Application of the reference's bundle of the same leaf is in ours, with the same
    chart, version (ours keeps the recipe's `v`) and namespace; values are each side's Helm bundle's
    (tests/test_reference.py compares those, deviations declared). What the reference leaves broken
    (a placeholder for the repository, an extra-manifests component as a chart with no repository,
    no extra manifests at all), ours does not."""
    reference = REFERENCE / f"{leaf}-argocd"
    compiled = from_document(library.compile_file(ROOT / "recipes" / f"{recipe}.aicr").document)
    ours = build_bundle(compiled, ["argocd"], REPOSITORY)
    ours_helm = build_bundle(compiled, ["helm"])
    apps = applications(ours)
    components = {c.name: c for c in compiled.components}
    for path in sorted(reference.glob("*/application.yaml")):
        theirs = yaml.safe_load(path.read_text())
        name = theirs["metadata"]["name"]
        their_chart, their_values = theirs["spec"]["sources"]
        assert their_values["repoURL"] == "{{ .RepoURL }}"  # the reference's unrendered placeholder
        application = apps[name]
        assert application["spec"]["destination"] == theirs["spec"]["destination"]
        values = (path.parent / "values.yaml").read_text()
        assert yaml.safe_load(values) == yaml.safe_load((reference.with_name(f"{leaf}-helm") / name / "values.yaml").read_text())
        if components[name].chart is None:  # theirs: a chart with an empty repository; ours: the manifests
            assert their_chart["repoURL"] is None and "source" in application["spec"]
            continue
        source = application["spec"]["sources"][0]
        assert source["targetRevision"].removeprefix("v") == str(their_chart["targetRevision"])
        assert source.get("chart", source["repoURL"].rsplit("/", 1)[-1]) == their_chart["chart"]
        assert ours[f"{name}/values.yaml"] == ours_helm[f"{name}/values.yaml"]
    # ours carries the extra manifests the reference drops, each an Application of its own
    assert {name for name in apps if name.endswith(".manifests")} == {
        f"{c.name}.manifests" for c in compiled.components if c.chart and c.manifests
    }
    assert not list(reference.glob("*/manifests"))
