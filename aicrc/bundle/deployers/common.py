"""What every deployer writes alike: a component's values file and manifests, and Markdown."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Component, Recipe
from aicrc.compiler.emit.text import to_yaml


def values_path(component: Component) -> str:
    return f"{component.name}/values.yaml"


def manifest_paths(component: Component) -> list[str]:
    return [f"{component.name}/manifests/{manifest.file_name}" for manifest in component.manifests]


def add_component_files(bundle: Bundle, recipe: Recipe, component: Component) -> None:
    """The component's compiled Helm values (a Helm component's), then its manifests, as written."""
    if component.chart is not None:
        chart = component.chart
        header = (
            f"# Helm values of {component.name} (chart {chart.name} {chart.version}), compiled by {recipe.compiler}\n"
            f"# from recipe {recipe.name}; `aicrc explain` on the recipe shows which layer set each value.\n"
        )
        bundle.add(values_path(component), header + to_yaml(dict(component.values)))
    for path, manifest in zip(manifest_paths(component), component.manifests, strict=True):
        bundle.add(path, manifest.content)


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
