"""The flux deployer: a source per chart repository (an OCIRepository per chart in an OCI registry),
a HelmRelease per component with its values inline and `dependsOn` from the graph, a Kustomization
per component that applies it after what it needs, the extra manifests after their HelmRelease,
and the GitRepository of the bundle itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from aicrc import diagnostics as diag
from aicrc.bundle.build import build_bundle
from aicrc.bundle.deployers.base import Repository
from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Recipe

REPOSITORY = Repository("https://git.example.com/platform/gpu-stack.git", "main")


@pytest.fixture(scope="module")
def bundle(flagship: Recipe) -> Bundle:
    return build_bundle(flagship, ["flux"], REPOSITORY)


def documents(bundle: Bundle, path: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(bundle[path].content) if document is not None]


def every_object(bundle: Bundle) -> Iterator[dict[str, Any]]:
    for path in bundle:
        if path.endswith(".yaml") and path != "recipe.yaml" and "/manifests/" not in path:
            yield from documents(bundle, path)


def by_kind(bundle: Bundle, kind: str) -> dict[str, dict[str, Any]]:
    return {item["metadata"]["name"]: item for item in every_object(bundle) if item["kind"] == kind}


def test_the_layout(flagship: Recipe, bundle: Bundle) -> None:
    expected = {"README.md", "sync.yaml", "flux/sources.yaml", "recipe.yaml", "sbom.cdx.json", "checksums.txt"}
    for component in flagship.components:
        expected.add(f"flux/{component.name}.yaml")
        expected.add(f"{component.name}/release/helmrelease.yaml" if component.chart else f"{component.name}/namespace.yaml")
        expected |= {f"{component.name}/manifests/{m.file_name}" for m in component.manifests}
    assert set(bundle) == expected  # no values.yaml: the values are in the HelmRelease
    assert all(item["metadata"].get("namespace") == "flux-system" for item in every_object(bundle) if item["kind"] != "Namespace")


def test_one_source_per_chart_repository_and_per_oci_chart(flagship: Recipe, bundle: Bundle) -> None:
    charts = [c.chart for c in flagship.components if c.chart]
    helm = by_kind(bundle, "HelmRepository")
    oci = by_kind(bundle, "OCIRepository")
    assert sorted(item["spec"]["url"] for item in helm.values()) == sorted({chart.repository for chart in charts if not chart.is_oci})
    assert sorted((item["spec"]["url"], item["spec"]["ref"]["tag"]) for item in oci.values()) == sorted(
        {(chart.reference, chart.version) for chart in charts if chart.is_oci}
    )
    assert all(item["spec"]["layerSelector"]["mediaType"] == "application/vnd.cncf.helm.chart.content.v1.tar+gzip" for item in oci.values())
    assert helm["charts-jetstack-io"]["spec"]["url"] == "https://charts.jetstack.io"
    assert oci["nvsentinel-v1-1-0"]["spec"]["url"] == "oci://ghcr.io/nvidia/nvsentinel"


def test_each_helm_component_is_a_helm_release_of_its_chart_with_its_values(flagship: Recipe, bundle: Bundle) -> None:
    releases = by_kind(bundle, "HelmRelease")
    helm = by_kind(bundle, "HelmRepository")
    oci = by_kind(bundle, "OCIRepository")
    helm_components = {c.name for c in flagship.components if c.chart}
    assert set(releases) == helm_components
    for component in flagship.components:
        if component.chart is None:
            continue
        spec = releases[component.name]["spec"]
        assert spec["values"] == component.values
        assert (spec["releaseName"], spec["targetNamespace"], spec["storageNamespace"]) == (
            component.name,
            component.namespace,
            component.namespace,
        )
        assert spec["install"]["createNamespace"] is True
        assert [need["name"] for need in spec.get("dependsOn", [])] == [n for n in component.needs if n in helm_components]
        if component.chart.is_oci:
            source = oci[spec["chartRef"]["name"]]
            assert (source["spec"]["url"], source["spec"]["ref"]["tag"]) == (component.chart.reference, component.chart.version)
        else:
            chart = spec["chart"]["spec"]
            assert (chart["chart"], chart["version"]) == (component.chart.name, component.chart.version)
            assert helm[chart["sourceRef"]["name"]]["spec"]["url"] == component.chart.repository
    # gpu-operator needs skyhook-customizations, a manifests component: its Kustomization waits for that
    assert [need["name"] for need in releases["gpu-operator"]["spec"]["dependsOn"]] == ["cert-manager", "kube-prometheus-stack", "nfd"]


def test_kustomizations_apply_each_component_after_what_it_needs(flagship: Recipe, bundle: Bundle) -> None:
    kustomizations = by_kind(bundle, "Kustomization")
    root = kustomizations.pop("blackwell-eks-training.bundle")
    assert root["spec"]["path"] == "./flux" and root["spec"]["prune"]
    # Flux's own order: a Kustomization becomes ready once everything it depends on is
    ready: list[str] = []
    while len(ready) < len(kustomizations):
        now = [
            name
            for name, item in kustomizations.items()
            if name not in ready and all(step["name"] in ready for step in item["spec"].get("dependsOn", []))
        ]
        assert now, f"waiting forever: {set(kustomizations) - set(ready)}"
        ready += now
    for component in flagship.components:
        item = kustomizations[component.name]
        folder = item["spec"]["path"].removeprefix("./")
        applied = {path for path in bundle if path.startswith(folder + "/")}
        for need in component.needs:
            assert ready.index(need) < ready.index(component.name)
        if component.chart is None:  # its namespace and its manifests, as kubectl apply --namespace would
            assert applied == {f"{component.name}/namespace.yaml"} | {
                f"{component.name}/manifests/{m.file_name}" for m in component.manifests
            }
            assert item["spec"]["targetNamespace"] == component.namespace and item["spec"]["wait"] is False
            namespace = documents(bundle, f"{component.name}/namespace.yaml")[0]["metadata"]
            assert namespace["annotations"] == {"kustomize.toolkit.fluxcd.io/prune": "disabled"}  # it may hold others
            continue
        assert applied == {f"{component.name}/release/helmrelease.yaml"} and item["spec"]["wait"] is True
        if component.manifests:  # the extra manifests, after the HelmRelease is ready
            manifests = kustomizations[f"{component.name}.manifests"]
            assert manifests["spec"]["dependsOn"] == [{"name": component.name}]
            assert manifests["spec"]["path"] == f"./{component.name}/manifests"
            assert manifests["spec"]["targetNamespace"] == component.namespace
    # what needs gpu-operator waits for its manifests too, as deploy.sh applies them before going on
    assert {"name": "gpu-operator.manifests"} in kustomizations["kai-scheduler"]["spec"]["dependsOn"]


def test_the_root_syncs_only_flux_objects(bundle: Bundle) -> None:
    """The root Kustomization applies flux/: the sources and the Kustomizations, never a
    HelmRelease or a manifest directly."""
    kinds = {item["kind"] for path in bundle if path.startswith("flux/") for item in documents(bundle, path)}
    assert kinds == {"HelmRepository", "OCIRepository", "Kustomization"}


@pytest.mark.parametrize(
    ("revision", "ref"),
    [
        ("main", {"branch": "main"}),
        ("refs/tags/v1.2.0", {"name": "refs/tags/v1.2.0"}),
        ("0123456789abcdef0123456789abcdef01234567", {"commit": "0123456789abcdef0123456789abcdef01234567"}),
    ],
)
def test_the_git_repository_follows_the_revision(revision: str, ref: dict[str, str], flagship: Recipe) -> None:
    bundle = build_bundle(flagship, ["flux"], Repository(REPOSITORY.url, revision))
    git, _ = documents(bundle, "sync.yaml")
    assert git["kind"] == "GitRepository"
    assert git["spec"] == {"interval": "1m", "url": REPOSITORY.url, "ref": ref}


@pytest.mark.parametrize(
    ("repository", "message"),
    [
        (None, "the flux bundle needs the Git repository it will be pushed to"),
        (Repository("https://git.example.com/x.git"), "--revision 'HEAD' names the default branch, which Flux cannot follow"),
        (Repository("git@github.com:org/repo.git", "main"), "--repo 'git@github.com:org/repo.git' is not a Git repository URL flux"),
        (Repository("https://git.example.com/x.git", "a b"), "--revision 'a b' is not a Git revision"),
    ],
)
def test_a_repository_flux_cannot_read_is_refused(repository: Repository | None, message: str, flagship: Recipe) -> None:
    with pytest.raises(diag.AicrcError) as caught:
        build_bundle(flagship, ["flux"], repository)
    assert [d.code for d in caught.value.diagnostics] == ["E0810" if repository is None else "E0811"]
    assert caught.value.diagnostics[0].message.startswith(message)
    if repository and repository.url.startswith("git@"):
        assert "ssh://git@host/org/repo" in str(caught.value.diagnostics[0].help)


def test_the_readme_says_how_to_apply_and_the_order(bundle: Bundle) -> None:
    readme = bundle["README.md"].content.decode()
    assert readme.startswith("# blackwell-eks-training: Flux bundle\n")
    for fact in (
        "`https://git.example.com/platform/gpu-stack.git` at `main`",
        "kubectl apply -f sync.yaml",
        "Flux 2.6 or later",
        "| [gpu-operator.manifests](flux/gpu-operator.yaml) | manifests (1) |  | `gpu-operator` | gpu-operator |",
        "```mermaid\nflowchart LR\n",
    ):
        assert fact in readme, fact
