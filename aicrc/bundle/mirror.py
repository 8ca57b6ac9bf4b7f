"""Mirroring a recipe's artifacts into one registry: the list (`aicrc mirror`), a `skopeo sync` file
that copies the images, and a recipe whose references point at the mirror (`--registry-mirror`).

A mirrored image is scoped by its source registry, `HOST/REGISTRY/PATH`:
`nvcr.io/nvidia/gpu-operator:v25` becomes `HOST/nvcr.io/nvidia/gpu-operator:v25`. That is where
`skopeo sync --scoped --src yaml --dest docker FILE HOST` puts it (without --scoped skopeo keeps
only the last part of the path, and two registries' `driver` would collide). Charts in OCI
registries move the same way (`oci://HOST/REGISTRY/PATH`); a chart in an HTTP repository cannot be
served by a registry and is left as it is.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from aicrc.bundle.artifacts import DOCKER_HUB, Artifacts, Image, manifest_images, parse_image, pinned_image
from aicrc.bundle.recipe import Chart, Component, Recipe

# HOST[:PORT][/PATH]: a registry, optionally with a path every mirrored repository goes under.
MIRROR = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*")


def check_mirror(text: str) -> str:
    if not MIRROR.fullmatch(text):
        raise ValueError(f"--registry-mirror {text!r}: expected a registry host, HOST[:PORT][/PATH] (e.g. registry.example.com:5000)")
    return text


def mirrored(image: Image, host: str) -> Image:
    moved: Image = image.replace(registry=host, repository=f"{image.registry}/{image.repository}")
    return moved


def rewrite(recipe: Recipe, host: str) -> Recipe:
    """The recipe with every image reference artifacts.py finds, and every OCI chart, on `host`."""
    rewritten: Recipe = recipe.replace(components=tuple(_rewrite(component, host) for component in recipe.components))
    return rewritten


def _rewrite(component: Component, host: str) -> Component:
    chart = component.chart
    if chart is not None and chart.is_oci:
        chart = Chart(f"oci://{host}/{chart.repository.removeprefix('oci://')}", chart.name, chart.version)
    values = _rewrite_values(copy.deepcopy(dict(component.values)), host)
    manifests = tuple(manifest.replace(content=_rewrite_manifest(manifest.content, host)) for manifest in component.manifests)
    rewritten: Component = component.replace(chart=chart, values=values, manifests=manifests)
    return rewritten


def _rewrite_values(values: Any, host: str) -> Any:
    # The same rules as artifacts.values_images: only what it lists is rewritten.
    if isinstance(values, dict):
        image = pinned_image(values)
        if image is not None:
            values.pop("registry", None)
            moved = mirrored(image, host)
            values["repository"] = f"{moved.registry}/{moved.repository}"
        for key, value in values.items():
            if key == "image" and isinstance(value, str):
                found = parse_image(value)
                if found is not None and (found.tag or found.digest):
                    values[key] = mirrored(found, host).reference
            else:
                _rewrite_values(value, host)
    elif isinstance(values, list):
        for item in values:
            _rewrite_values(item, host)
    return values


def _rewrite_manifest(content: str, host: str) -> str:
    """Rewrite the container images a manifest names, in its text: its comments and layout stay."""
    import yaml

    try:
        documents = list(yaml.safe_load_all(content))
    except yaml.YAMLError:
        return content
    for image in {image for document in documents for image in manifest_images(document)}:
        target = mirrored(image, host).reference
        for written in _spellings(image):
            pattern = re.compile(rf"(^\s*(?:-\s+)?image:\s*[\"']?){re.escape(written)}(?=[\"']?\s*(?:#.*)?$)", re.MULTILINE)
            content = pattern.sub(rf"\g<1>{target}", content)  # a reference holds no backslash
    return content


def _spellings(image: Image) -> list[str]:
    """How a manifest may write this image: with its registry, or without docker.io's."""
    full = image.reference
    if image.registry != DOCKER_HUB:
        return [full]
    short = full.removeprefix(f"{DOCKER_HUB}/")
    return [full, short, short.removeprefix("library/")]


def skopeo_sync(artifacts: Artifacts) -> dict[str, Any]:
    """`skopeo sync --src yaml` input: registry -> images -> the tags (or digests) to copy."""
    registries: dict[str, dict[str, list[str]]] = {}
    for image in artifacts.unique_images:
        versions = registries.setdefault(image.registry, {}).setdefault(image.repository, [])
        version = image.digest or image.tag or "latest"  # a digest pins exactly what is pulled
        if version not in versions:
            versions.append(version)
    return {registry: {"images": images} for registry, images in sorted(registries.items())}
