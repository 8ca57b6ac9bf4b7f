"""`aicrc mirror`: every chart and container image a recipe installs, to copy into a private
registry: as text, as JSON, or as the YAML file `skopeo sync --scoped --src yaml` reads. Images are
found as the SBOM finds them (bundle/artifacts.py); `aicrc bundle --registry-mirror HOST` then
points the bundle at the copies.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from aicrc.cli import criteria
from aicrc.cli.bundle import add_compiled_option, recipe_from_args
from aicrc.cli.exits import ExitCode
from aicrc.cli.options import add_format_option
from aicrc.cli.parsing import Subparsers

if TYPE_CHECKING:
    from aicrc.bundle.artifacts import Artifacts


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "mirror",
        "list the charts and images a recipe installs, to copy them into a private registry",
        handler=run,
        step="listing the images",
        inputs="RECIPE",
    )
    add_compiled_option(parser)
    add_format_option(
        parser,
        "text",
        "json",
        "skopeo",
        help="text (default), json, or skopeo (the images, for `skopeo sync --scoped --src yaml --dest docker FILE HOST`)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def run(args: argparse.Namespace) -> ExitCode:
    from aicrc.bundle.artifacts import collect
    from aicrc.cli.output import write_output

    artifacts = collect(recipe_from_args(args))
    write_output(_render(artifacts, args.format), args.output)
    return ExitCode.OK


def _render(artifacts: Artifacts, format: str) -> str:
    if format == "skopeo":
        from aicrc.bundle.mirror import skopeo_sync
        from aicrc.compiler.emit.text import to_yaml

        return to_yaml(skopeo_sync(artifacts))
    if format == "json":
        import json

        return json.dumps(_as_data(artifacts), indent=2) + "\n"
    lines = [f"charts ({len(artifacts.charts)}):"]
    lines += [
        f"  {ref.component}: {ref.chart.reference} {ref.chart.version}" + ("" if ref.chart.is_oci else f" from {ref.chart.repository}")
        for ref in artifacts.charts
    ]
    users = _users(artifacts)
    lines.append(f"images ({len(users)}):")
    lines += [f"  {reference} ({', '.join(components)})" for reference, components in users.items()]
    return "\n".join(lines) + "\n"


def _users(artifacts: Artifacts) -> dict[str, list[str]]:
    """Each image reference, sorted, with the components that pull it."""
    users: dict[str, list[str]] = {image.reference: [] for image in artifacts.unique_images}
    for found in artifacts.images:
        users[found.image.reference].append(found.component)
    return users


def _as_data(artifacts: Artifacts) -> dict[str, Any]:
    users = _users(artifacts)
    return {
        "charts": [
            {
                "component": ref.component,
                "repository": ref.chart.repository,
                "name": ref.chart.name,
                "version": ref.chart.version,
                "oci": ref.chart.is_oci,
            }
            for ref in artifacts.charts
        ],
        "images": [
            {
                "reference": image.reference,
                "registry": image.registry,
                "repository": image.repository,
                "tag": image.tag,
                "digest": image.digest,
                "components": users[image.reference],
            }
            for image in artifacts.unique_images
        ],
    }
