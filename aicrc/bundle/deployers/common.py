"""What every deployer writes alike: a component's values file and manifests, names for chart
repositories, YAML documents, and the Markdown of READMEs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aicrc import diagnostics as diag
from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Component, Recipe
from aicrc.compiler.emit.text import to_yaml

# A Kubernetes object name that is also a label value (Argo CD and Flux label what they apply with it).
MAX_NAME = 63


def values_path(component: Component) -> str:
    return f"{component.name}/values.yaml"


def manifests_folder(component: Component) -> str:
    return f"{component.name}/manifests"


def manifest_paths(component: Component) -> list[str]:
    return [f"{manifests_folder(component)}/{manifest.file_name}" for manifest in component.manifests]


def add_component_files(bundle: Bundle, recipe: Recipe, component: Component, *, values: bool = True) -> None:
    """The component's compiled Helm values (a Helm component's, unless `values` is False: the
    deployer writes them elsewhere), then its manifests, as written."""
    if component.chart is not None and values:
        chart = component.chart
        header = (
            f"# Helm values of {component.name} (chart {chart.name} {chart.version}), compiled by {recipe.compiler}\n"
            f"# from recipe {recipe.name}; `aicrc explain` on the recipe shows which layer set each value.\n"
        )
        bundle.add(values_path(component), header + to_yaml(dict(component.values)))
    for path, manifest in zip(manifest_paths(component), component.manifests, strict=True):
        bundle.add(path, manifest.content)


def reserve(recipe: Recipe, folder: str, deployer: str) -> None:
    """E0804 for a component named like a folder of the deployer's own: their files would mix."""
    if any(component.name == folder for component in recipe.components):
        raise diag.error(
            "E0804",
            f"component `{folder}` takes the name of the {deployer} bundle's own folder `{folder}/`",
            help=f"rename the component, or bundle it with another deployer than {deployer}",
        )


def manifests_name(component: Component) -> str:
    """The name of what applies a Helm component's extra manifests (an Application, a Flux
    Kustomization, a release): the component's, with a suffix no component name has (none holds a dot)."""
    return f"{component.name}.manifests"


def documents(objects: Iterable[Mapping[str, Any]]) -> str:
    """Objects as one YAML stream, each document after a `---`."""
    return "".join(f"---\n{to_yaml(dict(item))}" for item in objects)


def slug(text: str, limit: int = MAX_NAME) -> str:
    """A DNS label made of `text`: lowercase letters, digits and `-`, at most `limit` characters."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower())[:limit].strip("-") or "x"


def repository_names(urls: Iterable[str]) -> dict[str, str]:
    """A name for each chart repository, after its host and path (`https://charts.jetstack.io` ->
    `charts-jetstack-io`)."""
    return unique_names({url: re.sub(r"^[a-z][a-z0-9+.-]*://", "", url) for url in urls})


def unique_names(texts: Mapping[str, str]) -> dict[str, str]:
    """A DNS label for each key, made of its text; `-2`, `-3` ... where two would share one (the
    http and https of a host)."""
    names: dict[str, str] = {}
    for key, text in texts.items():
        base = slug(text, MAX_NAME - 4)
        name, number = base, 1
        while name in names.values():
            number += 1
            name = f"{base}-{number}"
        names[key] = name
    return names


def oci_tag(version: str) -> str:
    """The tag of a chart version in an OCI registry: Helm pushes `+` (not allowed in tags) as `_`."""
    return version.replace("+", "_")


# ---- Markdown ------------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = [_row(header), _row(["---"] * len(header))]
    lines += [_row(row) for row in rows]
    return "\n".join(lines) + "\n"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def code(text: str) -> str:
    """Inline code; a text holding backticks is fenced with more of them than it holds in a row."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence, padding = "`" * (longest + 1), " " if longest else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def written_by(recipe: Recipe, how: str) -> str:
    """The opening paragraph of a bundle's README: what wrote it, from what, and how it installs."""
    return (
        f"Written by `aicrc bundle` from the compiled recipe `{recipe.name}` (`recipe.yaml`, compiled by {recipe.compiler};\n"
        f"digest {code(recipe.digest)}). It installs {len(recipe.components)} components {how}.\n"
        f"Layers applied, lowest precedence first: {', '.join(recipe.layers)}.\n"
    )


def before_you_install(recipe: Recipe) -> str:
    """The recipe's criteria, then what the cluster must meet and which checks validate it."""
    criteria = table(("criterion", "value"), [(name, code(value)) for name, value in recipe.criteria.items()])
    constraints = (
        table(
            ("measurement", "must be", "set by layer"),
            [(code(c.name), code(f"{c.operator} {c.value}"), c.layer) for c in recipe.constraints],
        )
        if recipe.constraints
        else "None.\n"
    )
    checks = "".join(f"- {phase}: {', '.join(names)}\n" for phase, names in recipe.checks.items()) or "None.\n"
    return (
        f"{criteria}\n## Before you install\n\nThe cluster must meet these constraints:\n\n{constraints}\n"
        f"Validation checks, by phase:\n\n{checks}"
    )


def waves_list(recipe: Recipe) -> str:
    return "".join(f"- wave {number}: {', '.join(c.name for c in wave)}\n" for number, wave in enumerate(recipe.waves))


def chart_cells(component: Component, *, manifests: bool = False) -> tuple[str, str]:
    """The chart and version columns of a row: the component's chart, or its manifests (a
    manifests-only component's, or a Helm component's extra ones when `manifests`)."""
    chart = component.chart
    if chart is None or manifests:
        return f"manifests ({len(component.manifests)})", ""
    return code(chart.reference), code(chart.version)


VERIFY = """## Verify

`aicrc verify .` checks every file against `checksums.txt` and names any file changed, missing or
added. Without aicrc, `sha256sum -c checksums.txt` checks the files it lists.
"""
