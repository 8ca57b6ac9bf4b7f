"""The argocd deployer: one Argo CD Application per component, synced in install waves by an app of
apps, from the Git repository the bundle is pushed to (`--repo URL`, `--revision`).

    README.md                               what the bundle installs, in which waves, how to apply it
    app-of-apps.yaml                        the one Application to apply by hand: it syncs applications/
    applications/COMPONENT.yaml             the component: its chart at its version, with values.yaml
                                            from the repository (`$values`); sync wave = install wave
    applications/COMPONENT.manifests.yaml   a Helm component's extra manifests, one wave later
    COMPONENT/values.yaml                   the compiled Helm values (Helm components)
    COMPONENT/manifests/*.yaml              extra manifests: a directory of the repository each

A manifests-only component's Application is the directory of its manifests, in its own wave.
"""

from __future__ import annotations

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
    reserve,
    table,
    values_path,
    waves_list,
    written_by,
)
from aicrc.bundle.deployers.gitops import Rules, require, root_name
from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Component, Recipe

API_VERSION = "argoproj.io/v1alpha1"
NAMESPACE = "argocd"  # where Argo CD watches for Applications
IN_CLUSTER = "https://kubernetes.default.svc"
APPLICATIONS = "applications"
WAVE = "argocd.argoproj.io/sync-wave"
# Deleting an Application deletes what it installed (as undeploy.sh does), not just the Application.
FINALIZER = "resources-finalizer.argocd.argoproj.io"
SYNC_POLICY: dict[str, Any] = {
    "automated": {"prune": True, "selfHeal": True},
    # Server-side apply: CRDs such as prometheus-operator's are too large for the annotation that
    # client-side apply keeps the last applied object in.
    "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
    # As deploy.sh retries: a webhook or CRD that is not ready yet fails the first sync.
    "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
}
RULES = Rules(
    deployer="argocd",
    reads="its Applications read values and manifests from it, and the app of apps reads the Applications",
    schemes=("https", "http", "ssh", "git"),
    scp_form=True,
    check_revision=lambda _: None,  # a branch, a tag, a commit or HEAD: Argo CD resolves them all
)


def render(recipe: Recipe, repository: Repository | None) -> Bundle:
    repository = require(repository, RULES)
    reserve(recipe, APPLICATIONS, "argocd")
    bundle = Bundle()
    bundle.add("README.md", _readme(recipe, repository))
    bundle.add("app-of-apps.yaml", documents([_app_of_apps(recipe, repository)]))
    for component in recipe.components:
        for application in _applications(component, repository):
            bundle.add(f"{APPLICATIONS}/{application['metadata']['name']}.yaml", documents([application]))
    for component in recipe.components:
        add_component_files(bundle, recipe, component)
    return bundle


DEPLOYER = GitOpsDeployer("argocd", render)


# ---- Applications --------------------------------------------------------------------------------


def _applications(component: Component, repository: Repository) -> list[dict[str, Any]]:
    manifests = _directory(repository, manifests_folder(component))
    chart = component.chart
    if chart is None:
        return [_application(component.name, component.wave, component.namespace, {"source": manifests})]
    helm = {"releaseName": component.name, "valueFiles": [f"$values/{repository.path(values_path(component))}"]}
    if chart.is_oci:  # Argo CD's OCI source: the chart's whole reference, its version as the tag
        source = {"repoURL": chart.reference, "path": ".", "targetRevision": oci_tag(chart.version), "helm": helm}
    else:
        source = {"repoURL": chart.repository, "chart": chart.name, "targetRevision": chart.version, "helm": helm}
    values = {"repoURL": repository.url, "targetRevision": repository.revision, "ref": "values"}
    applications = [_application(component.name, component.wave, component.namespace, {"sources": [source, values]})]
    if component.manifests:
        applications.append(_application(manifests_name(component), component.wave + 1, component.namespace, {"source": manifests}))
    return applications


def _directory(repository: Repository, folder: str) -> dict[str, Any]:
    return {
        "repoURL": repository.url,
        "targetRevision": repository.revision,
        "path": repository.path(folder),
        "directory": {"recurse": False},
    }


def _application(name: str, wave: int, namespace: str, sources: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": {"name": name, "namespace": NAMESPACE, "annotations": {WAVE: str(wave)}, "finalizers": [FINALIZER]},
        "spec": {
            "project": "default",
            **sources,
            "destination": {"server": IN_CLUSTER, "namespace": namespace},
            "syncPolicy": SYNC_POLICY,
        },
    }


def _app_of_apps(recipe: Recipe, repository: Repository) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": {"name": root_name(recipe), "namespace": NAMESPACE, "finalizers": [FINALIZER]},
        "spec": {
            "project": "default",
            "source": _directory(repository, APPLICATIONS),
            "destination": {"server": IN_CLUSTER, "namespace": NAMESPACE},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


# ---- README --------------------------------------------------------------------------------------


def _readme(recipe: Recipe, repository: Repository) -> str:
    rows = []
    for component in recipe.components:
        for application in _applications(component, repository):
            name = application["metadata"]["name"]
            extra = name != component.name  # the extra manifests, after the component
            rows.append(
                (
                    application["metadata"]["annotations"][WAVE],
                    f"[{name}]({APPLICATIONS}/{name}.yaml)",
                    *chart_cells(component, manifests=extra),
                    code(component.namespace),
                    component.name if extra else ", ".join(component.needs),
                )
            )
    rows.sort(key=lambda row: int(row[0]))  # by wave; within one, in deployment order
    applications = table(("sync wave", "Application", "installs", "version", "namespace", "after"), rows)
    oci = "".join(f"\n  - {c.name}" for c in recipe.components if c.chart and c.chart.is_oci)
    oci_note = (
        "\n- Argo CD 3.1 or later for the charts in OCI registries, whose Applications use Argo CD's OCI\n"
        f"  sources (`repoURL: oci://REGISTRY/CHART`, `path: .`):{oci}"
        if oci
        else ""
    )
    where = f" in its folder `{repository.folder}`" if repository.folder else " at its root"
    return f"""# {recipe.name}: Argo CD bundle

{written_by(recipe, "as Argo CD Applications")}
{before_you_install(recipe)}
## Install

The Applications read this bundle from {code(repository.url)} at revision {code(repository.revision)},
where it must lie{where}: push it there first, then apply the app of apps.

```bash
kubectl apply -f app-of-apps.yaml          # Argo CD syncs applications/ from the repository
argocd app list                            # one Application per component (and per component's manifests)
argocd app wait {root_name(recipe)} --health
```

It needs:

- Argo CD 2.6 or later in the namespace `{NAMESPACE}` (Applications with several sources: the chart, and
  the values from this repository as `$values`), allowed to read the repository.{oci_note}
- Argo CD's health check for Applications, so that a wave waits for the one before it to be healthy
  (Argo CD does not assess the health of an Application it syncs unless told to). In `argocd-cm`:

  ```yaml
  resource.customizations.health.argoproj.io_Application: |
    hs = {{}}
    hs.status = "Progressing"
    hs.message = ""
    if obj.status ~= nil and obj.status.health ~= nil then
      hs.status = obj.status.health.status
      if obj.status.health.message ~= nil then
        hs.message = obj.status.health.message
      end
    end
    return hs
  ```

Every Application syncs automatically (prune, self-heal), creates its namespace, applies server-side,
and retries a failed sync 5 times with exponential backoff.

## Sync waves

A component's sync wave is its install wave: it needs only components of earlier waves. A Helm
component's extra manifests are an Application of their own, one wave after it (its chart installs
their CRDs).

{applications}
{waves_list(recipe)}
```mermaid
{graph.mermaid(recipe)}```

## Change or remove

Edit a component's `values.yaml` (or its manifests), commit and push: Argo CD syncs the change.
`kubectl delete -f app-of-apps.yaml` removes the Applications and, through their finalizer, what
they installed.

{VERIFY}"""
