"""The helmfile deployer: one helmfile.yaml that installs every component with `helmfile sync`, in
the order of the dependency graph (`needs`), components of one wave side by side.

    README.md                     what the bundle installs, in which order, how to apply and remove it
    helmfile.yaml                 repositories (OCI registries marked `oci: true`) and one release per
                                  chart and per folder of extra manifests
    COMPONENT/values.yaml         the compiled Helm values, the release's `values` file
    COMPONENT/manifests/*.yaml    extra manifests: a release of their own

Extra manifests are releases of raw manifests (helmfile turns a folder of manifests without a
Chart.yaml into a chart), not hooks running `kubectl apply`: a release is ordered by `needs` like
the charts (a Helm component's manifests after its chart, and before what needs the component),
shows in `helmfile diff`, is removed by `helmfile destroy`, and stops the run when it fails, where
a hook's objects would be left behind and a hook's failure depends on the hook's shell.
"""

from __future__ import annotations

from typing import Any

from aicrc import diagnostics as diag
from aicrc.bundle import graph
from aicrc.bundle.deployers.base import Deployer
from aicrc.bundle.deployers.common import (
    VERIFY,
    add_component_files,
    before_you_install,
    chart_cells,
    code,
    manifests_folder,
    manifests_name,
    repository_names,
    table,
    values_path,
    waves_list,
    written_by,
)
from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Component, Recipe
from aicrc.compiler.emit.text import to_yaml

HELMFILE = "helmfile.yaml"
MAX_RELEASE = 53  # Helm's limit on a release name
TIMEOUT_SECONDS = 600  # as the Helm bundle's deploy.sh (10m)


def render(recipe: Recipe) -> Bundle:
    _check_release_names(recipe)
    bundle = Bundle()
    bundle.add("README.md", _readme(recipe))
    bundle.add(HELMFILE, _helmfile(recipe))
    for component in recipe.components:
        add_component_files(bundle, recipe, component)
    return bundle


DEPLOYER = Deployer("helmfile", render)


def _check_release_names(recipe: Recipe) -> None:
    problems = diag.Collector()
    for component in recipe.components:
        if component.chart is not None and component.manifests and len(manifests_name(component)) > MAX_RELEASE:
            problems.add(
                "E0804",
                f"component `{component.name}`: its extra manifests' release `{manifests_name(component)}` is longer than "
                f"Helm's {MAX_RELEASE} characters",
                help=f"shorten the component's name to at most {MAX_RELEASE - len('.manifests')} characters",
            )
    problems.raise_if_any()


def _helmfile(recipe: Recipe) -> str:
    header = (
        f"# Installs recipe {recipe.name} (compiled by {recipe.compiler}): `helmfile sync` from this folder.\n"
        "# Written by `aicrc bundle`; README.md says what each release is and in which order they install.\n"
    )
    return header + to_yaml(_document(recipe))


def _document(recipe: Recipe) -> dict[str, Any]:
    repositories = _repositories(recipe)
    listed = []
    for url, name in repositories.items():
        oci = url.startswith("oci://")
        listed.append({"name": name, "url": url.removeprefix("oci://"), **({"oci": True} if oci else {})})
    return {
        "repositories": listed,
        "helmDefaults": {"wait": True, "timeout": TIMEOUT_SECONDS, "createNamespace": True},
        "releases": [release for component in recipe.components for release in _releases(recipe, component, repositories)],
    }


def _repositories(recipe: Recipe) -> dict[str, str]:
    return repository_names(component.chart.repository for component in recipe.components if component.chart is not None)


def _releases(recipe: Recipe, component: Component, repositories: dict[str, str]) -> list[dict[str, Any]]:
    by_name = {c.name: c for c in recipe.components}
    needs = [_last_step(by_name[need]) for need in component.needs]
    manifests: dict[str, Any] = {"chart": f"./{manifests_folder(component)}"}  # `./`: a folder, not REPOSITORY/CHART
    chart = component.chart
    if chart is None:
        return [_release(component.name, component.namespace, manifests, needs)]
    installs = {
        "chart": f"{repositories[chart.repository]}/{chart.name}",
        "version": chart.version,
        "values": [values_path(component)],
    }
    releases = [_release(component.name, component.namespace, installs, needs)]
    if component.manifests:
        releases.append(_release(manifests_name(component), component.namespace, manifests, [f"{component.namespace}/{component.name}"]))
    return releases


def _last_step(component: Component) -> str:
    """The release that finishes a component, as `needs` names it (NAMESPACE/NAME): its manifests'
    when it has both."""
    name = manifests_name(component) if component.chart is not None and component.manifests else component.name
    return f"{component.namespace}/{name}"


def _release(name: str, namespace: str, installs: dict[str, Any], needs: list[str]) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, **installs, **({"needs": needs} if needs else {})}


# ---- README --------------------------------------------------------------------------------------


def _readme(recipe: Recipe) -> str:
    repositories = _repositories(recipe)
    rows = []
    for component in recipe.components:
        for release in _releases(recipe, component, repositories):
            installs = chart_cells(component, manifests=release["name"] != component.name)
            rows.append((code(release["name"]), *installs, code(component.namespace), ", ".join(release.get("needs", []))))
    releases = table(("release", "installs", "version", "namespace", "needs"), rows)
    return f"""# {recipe.name}: Helmfile bundle

{written_by(recipe, "with helmfile")}
{before_you_install(recipe)}
## Install

From this folder, with the cluster as kubectl's current context:

```bash
helmfile sync                       # every release, each after what it `needs`, waiting for each
helmfile sync --concurrency 1       # one at a time, in the order below
helmfile destroy                    # remove them, in reverse order
```

It needs helmfile 1.0 or later and Helm 3.8 or later (charts in OCI registries). Use `helmfile sync`
for the first install: `helmfile apply` and `helmfile diff` (the helm-diff plugin) render the
releases of extra manifests against the cluster, whose custom resources have no CRDs yet.

## Install order

Each release names in `needs` (as `NAMESPACE/NAME`) the releases it waits for: the charts of the
components it needs, or their extra manifests when they have some. A Helm component's extra
manifests are a release of their own (`COMPONENT.manifests`, a folder of manifests that helmfile
turns into a chart), after the component's chart. Each wave below needs only earlier waves.

{releases}
{waves_list(recipe)}
```mermaid
{graph.mermaid(recipe)}```

{VERIFY}"""
