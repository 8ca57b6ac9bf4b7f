"""The flux deployer: Flux sources, a HelmRelease per component, and a Flux Kustomization per
component that applies it from the Git repository the bundle is pushed to (`--repo URL`,
`--revision BRANCH`), in the order of the dependency graph.

    README.md                            what the bundle installs, in which order, how to apply it
    sync.yaml                            the one file to apply by hand: the GitRepository of this
                                         bundle, and the Kustomization that applies flux/ from it
    flux/sources.yaml                    a HelmRepository per chart repository, an OCIRepository per
                                         chart (and version) in an OCI registry
    flux/COMPONENT.yaml                  the component's Kustomizations: `COMPONENT` applies its
                                         HelmRelease and waits for it; `COMPONENT.manifests` applies
                                         its extra manifests after it
    COMPONENT/release/helmrelease.yaml   the HelmRelease: chart, version, values inline, dependsOn
    COMPONENT/manifests/*.yaml           extra manifests
    COMPONENT/namespace.yaml             a manifests-only component's namespace (applied with them)

Why a Kustomization per component: Flux orders HelmReleases among themselves (`dependsOn`), and
Kustomizations among themselves, but a Kustomization cannot wait for a HelmRelease. Applying each
HelmRelease with a Kustomization that waits for it lets the extra manifests, and the components
that need a manifests-only component, wait for exactly what they need.

Why values inline (`spec.values`) and not a ConfigMap: the HelmRelease is then the whole release
(chart, version, values) in one object, validated and diffed as one; nothing has to exist before
it, and there is no second copy of the values to keep in step.
"""

from __future__ import annotations

import re
from typing import Any

from aicrc.bundle import graph
from aicrc.bundle.deployers.base import GitOpsDeployer, Repository
from aicrc.bundle.deployers.common import (
    VERIFY,
    add_component_files,
    before_you_install,
    chart_cells,
    code,
    documents,
    manifests_folder,
    manifests_name,
    oci_tag,
    repository_names,
    reserve,
    table,
    unique_names,
    waves_list,
    written_by,
)
from aicrc.bundle.deployers.gitops import Rules, require, root_name
from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Chart, Component, Recipe

SOURCE_API = "source.toolkit.fluxcd.io/v1"
HELM_API = "helm.toolkit.fluxcd.io/v2"
KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1"
NAMESPACE = "flux-system"  # where Flux's controllers run: every object of the bundle goes there
FLUX = "flux"
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
TIMEOUT = "10m"  # as the Helm bundle's deploy.sh
COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _revision_complaint(revision: str) -> str | None:
    if revision == "HEAD":
        return "names the default branch, which Flux cannot follow (it reads a branch, a tag, a commit or a ref)"
    return None


RULES = Rules(
    deployer="flux",
    reads="its Kustomizations apply the HelmReleases and manifests from it",
    schemes=("https", "http", "ssh"),  # what GitRepository's spec.url allows
    scp_form=False,
    check_revision=_revision_complaint,
)


def render(recipe: Recipe, repository: Repository | None) -> Bundle:
    repository = require(repository, RULES)
    reserve(recipe, FLUX, "flux")
    sources = _Sources(recipe)
    bundle = Bundle()
    bundle.add("README.md", _readme(recipe, repository))
    bundle.add("sync.yaml", documents(_sync(recipe, repository)))
    bundle.add(f"{FLUX}/sources.yaml", documents(sources.objects()))
    for component in recipe.components:
        bundle.add(f"{FLUX}/{component.name}.yaml", documents(_kustomizations(recipe, component, repository)))
        if component.chart is not None:
            bundle.add(_release_path(component), documents([_helm_release(recipe, component, component.chart, sources)]))
        else:
            bundle.add(f"{component.name}/namespace.yaml", documents([_namespace(component)]))
        add_component_files(bundle, recipe, component, values=False)  # the values are in the HelmRelease
    return bundle


DEPLOYER = GitOpsDeployer("flux", render)


def _release_path(component: Component) -> str:
    return f"{component.name}/release/helmrelease.yaml"


def _metadata(name: str) -> dict[str, str]:
    return {"name": name, "namespace": NAMESPACE}


# ---- sources -------------------------------------------------------------------------------------


class _Sources:
    """One HelmRepository per chart repository; one OCIRepository per chart and version in an OCI
    registry (an OCIRepository is one artifact: its tag is the chart's version)."""

    def __init__(self, recipe: Recipe) -> None:
        charts = [component.chart for component in recipe.components if component.chart is not None]
        self.helm = repository_names(chart.repository for chart in charts if not chart.is_oci)
        self.oci = unique_names({self._artifact(chart): f"{chart.name}-{oci_tag(chart.version)}" for chart in charts if chart.is_oci})

    @staticmethod
    def _artifact(chart: Chart) -> str:
        return f"{chart.reference}:{oci_tag(chart.version)}"

    def chart(self, chart: Chart) -> dict[str, Any]:
        """What a HelmRelease installs: `chartRef` to an OCIRepository, or a chart of a HelmRepository."""
        if chart.is_oci:
            return {"chartRef": {"kind": "OCIRepository", "name": self.oci[self._artifact(chart)], "namespace": NAMESPACE}}
        source = {"kind": "HelmRepository", "name": self.helm[chart.repository], "namespace": NAMESPACE}
        return {"chart": {"spec": {"chart": chart.name, "version": chart.version, "sourceRef": source, "interval": "1h"}}}

    def objects(self) -> list[dict[str, Any]]:
        # Versions are pinned: the sources need looking at rarely.
        helm = [
            {"apiVersion": SOURCE_API, "kind": "HelmRepository", "metadata": _metadata(name), "spec": {"interval": "1h", "url": url}}
            for url, name in self.helm.items()
        ]
        oci = []
        for artifact, name in self.oci.items():
            url, _, tag = artifact.rpartition(":")
            spec = {
                "interval": "1h",
                "url": url,
                "ref": {"tag": tag},
                "layerSelector": {"mediaType": HELM_CHART_LAYER, "operation": "copy"},
            }
            oci.append({"apiVersion": SOURCE_API, "kind": "OCIRepository", "metadata": _metadata(name), "spec": spec})
        return helm + oci


# ---- objects -------------------------------------------------------------------------------------


def _sync(recipe: Recipe, repository: Repository) -> list[dict[str, Any]]:
    name = root_name(recipe)
    git = {"interval": "1m", "url": repository.url, "ref": _ref(repository.revision)}
    applies = {
        "interval": "10m",
        "sourceRef": {"kind": "GitRepository", "name": name},
        "path": f"./{repository.path(FLUX)}",
        "prune": True,
    }
    return [
        {"apiVersion": SOURCE_API, "kind": "GitRepository", "metadata": _metadata(name), "spec": git},
        {"apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "metadata": _metadata(name), "spec": applies},
    ]


def _ref(revision: str) -> dict[str, str]:
    """A revision as GitRepository reads it: a commit SHA, a full ref (refs/tags/v1), or a branch."""
    if COMMIT.fullmatch(revision):
        return {"commit": revision}
    return {"name": revision} if revision.startswith("refs/") else {"branch": revision}


def _helm_release(recipe: Recipe, component: Component, chart: Chart, sources: _Sources) -> dict[str, Any]:
    helm_components = {c.name for c in recipe.components if c.chart is not None}
    needs = [{"name": need} for need in component.needs if need in helm_components]
    spec: dict[str, Any] = {
        "interval": "10m",
        "releaseName": component.name,
        "targetNamespace": component.namespace,
        "storageNamespace": component.namespace,  # `helm list -n NAMESPACE` shows it, as with the Helm bundle
        **sources.chart(chart),
        "install": {"createNamespace": True, "remediation": {"retries": 5}},
        "upgrade": {"remediation": {"retries": 5}},
        "timeout": TIMEOUT,
    }
    if needs:
        spec["dependsOn"] = needs
    spec["values"] = dict(component.values)
    return {"apiVersion": HELM_API, "kind": "HelmRelease", "metadata": _metadata(component.name), "spec": spec}


def _kustomizations(recipe: Recipe, component: Component, repository: Repository) -> list[dict[str, Any]]:
    """The component's Kustomization (its HelmRelease, or its manifests and namespace), after what
    it needs; and a Helm component's extra manifests, after it."""
    by_name = {c.name: c for c in recipe.components}
    source = root_name(recipe)
    after = [_last_step(by_name[need]) for need in component.needs]
    if component.chart is None:
        return [_kustomization(component.name, source, repository.path(component.name), after, component.namespace, wait=False)]
    release = _kustomization(component.name, source, repository.path(f"{component.name}/release"), after, None, wait=True)
    if not component.manifests:
        return [release]
    folder = repository.path(manifests_folder(component))
    return [release, _kustomization(manifests_name(component), source, folder, [component.name], component.namespace, wait=False)]


def _last_step(component: Component) -> str:
    """The Kustomization that finishes a component: its manifests' when it has both."""
    return manifests_name(component) if component.chart is not None and component.manifests else component.name


def _kustomization(name: str, source: str, folder: str, after: list[str], namespace: str | None, *, wait: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "interval": "10m",
        "retryInterval": "1m",
        "timeout": TIMEOUT,
        "sourceRef": {"kind": "GitRepository", "name": source, "namespace": NAMESPACE},
        "path": f"./{folder}",
        "prune": True,
        # A HelmRelease is ready once installed; manifests are applied as `kubectl apply` would.
        "wait": wait,
    }
    if namespace is not None:  # as `kubectl apply --namespace`: objects without one go there
        spec["targetNamespace"] = namespace
    if after:
        spec["dependsOn"] = [{"name": step} for step in after]
    return {"apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "metadata": _metadata(name), "spec": spec}


def _namespace(component: Component) -> dict[str, Any]:
    # Never pruned: other components may live in it (gpu-operator's, kube-system), as undeploy.sh
    # of the Helm bundle leaves it.
    metadata = {"name": component.namespace, "annotations": {"kustomize.toolkit.fluxcd.io/prune": "disabled"}}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


# ---- README --------------------------------------------------------------------------------------


def _readme(recipe: Recipe, repository: Repository) -> str:
    rows = []
    for component in recipe.components:
        for kustomization in _kustomizations(recipe, component, repository):
            name, spec = kustomization["metadata"]["name"], kustomization["spec"]
            after = ", ".join(step["name"] for step in spec.get("dependsOn", []))
            installs = chart_cells(component, manifests=name != component.name)
            rows.append((f"[{name}]({FLUX}/{component.name}.yaml)", *installs, code(component.namespace), after))
    kustomizations = table(("Kustomization", "installs", "version", "namespace", "after"), rows)
    where = f" in its folder `{repository.folder}`" if repository.folder else " at its root"
    return f"""# {recipe.name}: Flux bundle

{written_by(recipe, "as Flux HelmReleases")}
{before_you_install(recipe)}
## Install

Flux reads this bundle from {code(repository.url)} at {code(repository.revision)}, where it must lie{where}:
push it there first, then apply `sync.yaml`.

```bash
kubectl apply -f sync.yaml                     # this repository, and the Kustomization that applies flux/
flux get kustomizations --watch                # one per component (and per component's manifests)
flux get helmreleases --namespace {NAMESPACE}
```

It needs Flux 2.6 or later (OCIRepository v1, HelmRelease v2 with `chartRef`) in the namespace
`{NAMESPACE}`, allowed to read the repository (a private one: add a `secretRef` to the GitRepository
in `sync.yaml`).

Each HelmRelease installs its chart into the component's namespace (created if missing) with its
compiled values inline (`spec.values`), keeps the Helm release there (`helm list --namespace
NAMESPACE`), and retries a failed install or upgrade 5 times.

## Install order

A component's Kustomization applies its HelmRelease and waits until it is ready; it starts after
the Kustomizations of everything the component needs (`dependsOn`), and a Helm component's extra
manifests are applied by a Kustomization of their own, after it. HelmReleases also name the
HelmReleases they need in their own `dependsOn`. Each wave below needs only earlier waves.

{kustomizations}
{waves_list(recipe)}
```mermaid
{graph.mermaid(recipe)}```

## Change or remove

Edit a component's values in `COMPONENT/release/helmrelease.yaml` (`spec.values`), or its manifests;
commit and push: Flux applies the change. `kubectl delete -f sync.yaml` removes everything: each
Kustomization prunes what it applied, and a removed HelmRelease uninstalls its chart. Namespaces
stay (a manifests-only component's is marked never to be pruned: other components may use it).

{VERIFY}"""
