"""The helmfile deployer: one helmfile.yaml with the chart repositories (OCI ones marked), a release
per chart (chart, version, namespace, values file of the bundle, `needs` from the graph) and a
release of raw manifests per component's extra manifests."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

import aicrc
from aicrc import diagnostics as diag
from aicrc.bundle.build import build_bundle
from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Recipe, from_document
from tests.conftest import FLAGSHIP


@pytest.fixture(scope="module")
def bundle(flagship: Recipe) -> Bundle:
    return build_bundle(flagship, ["helmfile"])


@pytest.fixture(scope="module")
def helmfile(bundle: Bundle) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(bundle["helmfile.yaml"].content)
    return document


def test_the_layout(flagship: Recipe, bundle: Bundle, helmfile: dict[str, Any]) -> None:
    expected = {"README.md", "helmfile.yaml", "recipe.yaml", "sbom.cdx.json", "checksums.txt"}
    for component in flagship.components:
        if component.chart:
            expected.add(f"{component.name}/values.yaml")
        expected |= {f"{component.name}/manifests/{m.file_name}" for m in component.manifests}
    assert set(bundle) == expected
    assert set(helmfile) == {"repositories", "helmDefaults", "releases"}
    assert helmfile["helmDefaults"] == {"wait": True, "timeout": 600, "createNamespace": True}


def test_repositories_are_the_charts_and_oci_ones_are_marked(flagship: Recipe, helmfile: dict[str, Any]) -> None:
    repositories = {entry["name"]: entry for entry in helmfile["repositories"]}
    urls = {c.chart.repository for c in flagship.components if c.chart}
    listed = {("oci://" + entry["url"]) if entry.get("oci") else entry["url"] for entry in repositories.values()}
    assert listed == urls and len(repositories) == len(urls)
    assert repositories["ghcr-io-nvidia"] == {"name": "ghcr-io-nvidia", "url": "ghcr.io/nvidia", "oci": True}
    assert repositories["charts-jetstack-io"] == {"name": "charts-jetstack-io", "url": "https://charts.jetstack.io"}


def test_each_chart_is_a_release_with_its_version_values_and_needs(flagship: Recipe, bundle: Bundle, helmfile: dict[str, Any]) -> None:
    repositories = {entry["name"]: entry for entry in helmfile["repositories"]}
    releases = {f"{release['namespace']}/{release['name']}": release for release in helmfile["releases"]}
    by_name = {c.name: c for c in flagship.components}
    for component in flagship.components:
        release = releases[f"{component.namespace}/{component.name}"]
        needs = release.get("needs", [])
        assert len(needs) == len(component.needs) and all(need in releases for need in needs)
        for need, named in zip(needs, component.needs, strict=True):  # its chart, or its extra manifests after it
            needed = by_name[named]
            last = f"{named}.manifests" if needed.chart and needed.manifests else named
            assert need == f"{needed.namespace}/{last}"
        if component.chart is None:
            assert release["chart"] == f"./{component.name}/manifests" and "version" not in release
            continue
        repository, chart = release["chart"].split("/")
        entry = repositories[repository]
        assert (("oci://" if entry.get("oci") else "") + entry["url"], chart) == (component.chart.repository, component.chart.name)
        assert release["version"] == component.chart.version
        assert release["values"] == [f"{component.name}/values.yaml"] and release["values"][0] in bundle
        if component.manifests:
            extra = releases[f"{component.namespace}/{component.name}.manifests"]
            assert extra == {
                "name": f"{component.name}.manifests",
                "namespace": component.namespace,
                "chart": f"./{component.name}/manifests",
                "needs": [f"{component.namespace}/{component.name}"],
            }
    # every release of raw manifests is a folder of the bundle holding exactly its manifests
    for release in helmfile["releases"]:
        if release["chart"].startswith("./"):
            folder = release["chart"].removeprefix("./")
            component = by_name[folder.split("/")[0]]
            assert {path for path in bundle if path.startswith(folder + "/")} == {f"{folder}/{m.file_name}" for m in component.manifests}
    assert releases["gpu-operator/gpu-operator"]["needs"][-1] == "skyhook/skyhook-customizations"


def test_releases_install_after_what_they_need(helmfile: dict[str, Any]) -> None:
    """helmfile's order: a release once everything it needs is installed."""
    releases = {f"{release['namespace']}/{release['name']}": release.get("needs", []) for release in helmfile["releases"]}
    done: list[str] = []
    while len(done) < len(releases):
        now = [name for name, needs in releases.items() if name not in done and all(need in done for need in needs)]
        assert now, f"waiting forever: {set(releases) - set(done)}"
        done += now
    assert done.index("gpu-operator/gpu-operator.manifests") < done.index("kubeflow/kubeflow-trainer")


def test_a_manifests_release_name_longer_than_helm_allows_is_refused(library: aicrc.Library) -> None:
    document = json.loads(json.dumps(library.compile_file(FLAGSHIP).document))
    long_name = "gpu-operator-" + "x" * 40  # 53 characters: a release, but not with `.manifests`
    position = document["deploymentOrder"].index("gpu-operator")
    document["deploymentOrder"][position] = document["components"][position]["name"] = long_name
    for component in document["components"]:
        component["needs"] = [long_name if need == "gpu-operator" else need for need in component["needs"]]
    with pytest.raises(diag.AicrcError) as caught:
        build_bundle(from_document(document), ["helmfile"])
    (problem,) = caught.value.diagnostics
    assert problem.code == "E0804" and f"`{long_name}.manifests` is longer than Helm's 53 characters" in problem.message
    assert build_bundle(from_document(document), ["helm"])  # the Helm bundle has no such release


def test_the_readme_says_how_to_apply_and_the_order(bundle: Bundle) -> None:
    readme = bundle["README.md"].content.decode()
    assert readme.startswith("# blackwell-eks-training: Helmfile bundle\n")
    for fact in (
        "helmfile sync ",
        "helmfile destroy ",
        "| `gpu-operator.manifests` | manifests (1) |  | `gpu-operator` | gpu-operator/gpu-operator |",
        "```mermaid\nflowchart LR\n",
    ):
        assert fact in readme, fact
