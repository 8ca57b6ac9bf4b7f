"""The helm deployer: charts installed with `helm upgrade --install`, extra manifests with
`kubectl apply`, by `deploy.sh` in deployment order (and removed by `undeploy.sh` in reverse).

    README.md                      what the bundle installs, in which order (waves, a Mermaid graph), how
    deploy.sh, undeploy.sh         bash; --dry-run, --from COMPONENT, --retries N with exponential backoff
    COMPONENT/README.md            chart, version, repository, namespace, needs; install by hand
    COMPONENT/values.yaml          the compiled Helm values (Helm components)
    COMPONENT/manifests/*.yaml     extra manifests, applied after the chart (or alone)
    COMPONENT/namespace.yaml       a manifests-only component's namespace (Helm creates its own)

Each command is built once (`_install`, `_uninstall`) and shown three ways: in the scripts, in the
component's README (run from its folder) and in the bundle's README, so they never disagree.
"""

from __future__ import annotations

import shlex
import string
from collections.abc import Callable
from functools import cache
from pathlib import Path

from aicrc.bundle import graph
from aicrc.bundle.deployers.base import Deployer
from aicrc.bundle.deployers.common import (
    VERIFY,
    add_component_files,
    before_you_install,
    chart_cells,
    code,
    manifest_paths,
    table,
    values_path,
    waves_list,
    written_by,
)
from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Component, Recipe
from aicrc.records import Record

TEMPLATE = Path(__file__).with_name("templates") / "helm.sh"
DEFAULT_TIMEOUT = "10m"


def render(recipe: Recipe) -> Bundle:
    bundle = Bundle()
    bundle.add("README.md", _readme(recipe))
    bundle.add("deploy.sh", _deploy_script(recipe), executable=True)
    bundle.add("undeploy.sh", _undeploy_script(recipe), executable=True)
    for component in recipe.components:
        bundle.add(f"{component.name}/README.md", _component_readme(recipe, component))
        add_component_files(bundle, recipe, component)
        if component.chart is None:
            bundle.add(_namespace_path(component), _namespace_manifest(component))
    return bundle


DEPLOYER = Deployer("helm", render)


# ---- commands ------------------------------------------------------------------------------------


class _File(Record):
    """A file of the bundle in a command: `"${BUNDLE_DIR}/PATH"` in the scripts, relative by hand."""

    path: str


class _Setting(Record):
    """An option the scripts take from their command line and a person types as it is by default."""

    script: str
    by_hand: str


Word = str | _File | _Setting
# A command is lines of words: each line stays whole where the command is wrapped.
Command = tuple[tuple[Word, ...], ...]

TIMEOUT = _Setting('--timeout "${TIMEOUT}"', f"--timeout {DEFAULT_TIMEOUT}")
WAIT = _Setting('${WAIT:+"${WAIT}"}', "--wait")


def _install(component: Component) -> list[Command]:
    manifests: list[Command] = [
        (("kubectl", "apply", "--namespace", component.namespace, "-f", _File(path)),) for path in manifest_paths(component)
    ]
    chart = component.chart
    if chart is None:  # kubectl creates no namespace as `helm --create-namespace` does
        return [(("kubectl", "apply", "-f", _File(_namespace_path(component))),), *manifests]
    source = ("--version", chart.version) if chart.is_oci else ("--repo", chart.repository, "--version", chart.version)
    helm: Command = (
        ("helm", "upgrade", "--install", component.name, chart.reference),
        source,
        ("--namespace", component.namespace, "--create-namespace"),
        ("-f", _File(values_path(component)), TIMEOUT, WAIT),
    )
    return [helm, *manifests]


def _uninstall(component: Component) -> list[Command]:
    manifests: list[Command] = [
        (("kubectl", "delete", "--namespace", component.namespace, "--ignore-not-found", "-f", _File(path)),)
        for path in reversed(manifest_paths(component))
    ]
    if component.chart is None:  # its namespace stays: other components may use it
        return manifests
    helm: Command = (("helm", "uninstall", component.name, "--namespace", component.namespace, "--ignore-not-found", TIMEOUT, WAIT),)
    return [*manifests, helm]


def _script_line(command: Command) -> str:
    def word(item: Word) -> str:
        if isinstance(item, _File):
            return f'"${{BUNDLE_DIR}}/{item.path}"'  # paths are made of checked names: nothing to quote
        if isinstance(item, _Setting):
            return item.script
        return shlex.quote(item)

    return " \\\n        ".join(" ".join(word(item) for item in line) for line in command)


def _by_hand(command: Command, folder: str) -> str:
    """The command as typed in `folder` (a component's), with the scripts' default settings."""

    def word(item: Word) -> str:
        if isinstance(item, _File):
            return shlex.quote(item.path.removeprefix(f"{folder}/"))
        if isinstance(item, _Setting):
            return item.by_hand
        return shlex.quote(item)

    return " \\\n    ".join(" ".join(word(item) for item in line) for line in command)


def _namespace_path(component: Component) -> str:
    return f"{component.name}/namespace.yaml"


def _namespace_manifest(component: Component) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {component.namespace}\n"


# ---- scripts -------------------------------------------------------------------------------------


@cache
def _template() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


class _Script(Record):
    name: str
    purpose: str
    order: str
    done: str  # the past tense of what it does
    commands: Callable[[Component], list[Command]]


DEPLOY = _Script("deploy.sh", "Install the components of this bundle", "in deployment order", "installed", _install)
UNDEPLOY = _Script("undeploy.sh", "Remove the components of this bundle", "in reverse deployment order", "removed", _uninstall)


def _deploy_script(recipe: Recipe) -> str:
    return _script(recipe, DEPLOY, list(recipe.components))


def _undeploy_script(recipe: Recipe) -> str:
    return _script(recipe, UNDEPLOY, list(reversed(recipe.components)))


def _script(recipe: Recipe, script: _Script, components: list[Component]) -> str:
    steps = []
    for component in components:
        lines = [f"      run {_script_line(command)}" for command in script.commands(component)]
        steps.append("\n".join([f"    {component.name})", *lines, "      ;;"]))
    tools = [tool for tool in ("helm", "kubectl") if any(command[0][0] == tool for c in components for command in script.commands(c))]
    fields = {
        "script": script.name,
        "purpose": script.purpose,
        "order": script.order,
        "recipe": recipe.name,
        "digest": recipe.digest,
        "compiler": recipe.compiler,
        "components": " ".join(shlex.quote(component.name) for component in components),
        "listing": "\n".join(f"  {component.name:<32} {_what(component)}" for component in components),
        "tools": " ".join(tools),
        "steps": "\n".join(steps),
        "done": script.done,
    }
    return _ScriptTemplate(_template()).substitute(fields)


class _ScriptTemplate(string.Template):
    """`%%{name}` placeholders: bash keeps its own `$`, `@` and single `%`."""

    delimiter = "%%"


def _what(component: Component) -> str:
    chart = component.chart
    if chart is None:
        return f"{len(component.manifests)} manifest{'s' if len(component.manifests) != 1 else ''} (namespace {component.namespace})"
    return f"chart {chart.name} {chart.version} (namespace {component.namespace})"


# ---- READMEs -------------------------------------------------------------------------------------


def _component_readme(recipe: Recipe, component: Component) -> str:
    chart = component.chart
    order = [c.name for c in recipe.components].index(component.name) + 1
    rows = [("kind", "Helm chart" if chart else "Kubernetes manifests, applied with kubectl")]
    if chart:
        rows += [("chart", code(chart.name)), ("version", code(chart.version)), ("repository", code(chart.repository))]
    rows += [
        ("namespace", code(component.namespace)),
        ("install", f"wave {component.wave}, step {order} of {len(recipe.components)}"),
        ("needs", _links(component.needs) + (" (install these first)" if component.needs else "")),
        ("needed by", _links(recipe.needed_by(component.name))),
    ]
    files = ["- `values.yaml`: the compiled Helm values, which `-f values.yaml` passes to the chart"] if chart else []
    files += [f"- `namespace.yaml`: the namespace {code(component.namespace)}, created before the manifests"] if not chart else []
    files += [
        f"- `manifests/{manifest.file_name}`: applied {'after the chart' if chart else 'with kubectl'} (from {code(manifest.source)})"
        for manifest in component.manifests
    ]
    install = "\n".join(_by_hand(command, component.name) for command in _install(component))
    uninstall = "\n".join(_by_hand(command, component.name) for command in _uninstall(component))
    return (
        f"# {component.name}\n\n"
        f"{table(('', ''), rows)}\n"
        "## Files\n\n" + "\n".join(files) + "\n\n"
        "## Install by hand\n\n"
        f"From this folder, once what it needs is installed (`../deploy.sh --from {component.name}` does this and what follows):\n\n"
        f"```bash\n{install}\n```\n\n"
        "## Uninstall\n\n"
        f"```bash\n{uninstall}\n```\n"
        + ("" if chart else f"\nThe namespace {code(component.namespace)} stays: other components may use it.\n")
    )


def _links(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"[{name}](../{name}/README.md)" for name in names) or "nothing"


def _readme(recipe: Recipe) -> str:
    components = table(
        ("step", "wave", "component", "chart", "version", "namespace", "needs"),
        [
            (
                str(step),
                str(component.wave),
                f"[{component.name}]({component.name}/README.md)",
                *chart_cells(component),
                code(component.namespace),
                ", ".join(component.needs),
            )
            for step, component in enumerate(recipe.components, start=1)
        ],
    )
    by_hand = "\n".join(
        f"(cd {component.name} && {_by_hand(command, component.name)})"
        for component in recipe.components
        for command in _install(component)
    )
    return f"""# {recipe.name}: Helm bundle

{written_by(recipe, "with Helm and kubectl")}
{before_you_install(recipe)}
## Install

```bash
./deploy.sh                    # every component, in deployment order, waiting for each
./deploy.sh --dry-run          # print the commands; run nothing
./deploy.sh --from COMPONENT   # resume at COMPONENT after a failure
./undeploy.sh                  # remove them, in reverse order
```

The scripts need `helm` and `kubectl`, with the cluster as kubectl's current context. A failed command is
retried with exponential backoff (`--retries N`, default 5; `AICRC_BACKOFF_BASE` seconds before the
first retry, default 5); `--help` lists every option.

## Install order

A component is installed after everything it needs. Each wave needs only earlier waves, so the
components of one wave could be installed together; `deploy.sh` installs them one at a time, in
the order below.

{components}
{waves_list(recipe)}
```mermaid
{graph.mermaid(recipe)}```

## Install by hand

Each component's folder has a README with its commands. All of them, in order, from this folder
(each runs in its component's folder: Helm would take a folder named like the chart for the chart):

```bash
{by_hand}
```

{VERIFY}"""
