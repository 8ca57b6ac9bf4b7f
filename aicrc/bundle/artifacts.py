"""What a recipe pulls: the chart of each Helm component and the container images its values and
manifests name. The SBOM (sbom.py), `aicrc mirror` and `--registry-mirror` (mirror.py) all read
this one list.

Images are found conservatively, so a listed image is one the recipe really pins:
  - in values, a mapping with a string `repository` and a `tag` or `digest` (and an optional
    `registry` before the repository, as Bitnami-style charts split it), or a key `image` whose
    value is a string with a tag or a digest. A `repository` without a tag is left out: the chart
    fills in its own appVersion, which only the chart knows.
  - in manifests, the `image` of every item of a `containers`, `initContainers` or
    `ephemeralContainers` list, anywhere in an object (Deployments, Pods, Jobs and the templates
    of custom resources alike), tag or not: Kubernetes pulls exactly that reference.
Other fields that hold images by a custom scheme (a Skyhook package's `image` and `version`) are not
guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from aicrc.bundle.recipe import Chart, Recipe
from aicrc.records import Record

DOCKER_HUB = "docker.io"
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
# A reference as container runtimes read it: [registry/]path[:tag][@algorithm:hex].
REFERENCE = re.compile(
    r"(?P<name>[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?::[0-9]+(?=/))?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}))?"
)


class Image(Record):
    registry: str  # docker.io when the reference names none
    repository: str  # the path within the registry
    tag: str | None
    digest: str | None

    @property
    def reference(self) -> str:
        """The reference as written to a bundle: registry always named, so a mirror can rewrite it."""
        return f"{self.registry}/{self.repository}" + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


class Found(Record):
    """An image, and where the recipe names it (component, then `values` or the manifest's name)."""

    image: Image
    component: str
    source: str


class ChartRef(Record):
    component: str
    chart: Chart


class Artifacts(Record):
    charts: tuple[ChartRef, ...]  # in deployment order
    images: tuple[Found, ...]  # in deployment order, then as found; one per image reference

    @property
    def unique_images(self) -> list[Image]:
        return sorted({found.image for found in self.images}, key=lambda image: image.reference)


def parse_image(text: str) -> Image | None:
    """An image reference, or None when `text` is not one (a template, a bare word with spaces)."""
    match = REFERENCE.fullmatch(text.strip())
    if match is None:
        return None
    first, slash, rest = match["name"].partition("/")
    # The first part names a registry only if it looks like a host, as Docker decides.
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:  # Docker Hub, where an official image's path is `library/NAME`
        registry, repository = DOCKER_HUB, match["name"] if slash else f"library/{match['name']}"
    return Image(registry, repository, match["tag"], match["digest"])


def collect(recipe: Recipe) -> Artifacts:
    import yaml

    charts, images, seen = [], [], set()
    for component in recipe.components:
        if component.chart is not None:
            charts.append(ChartRef(component.name, component.chart))
        found = [(image, "values") for image in values_images(component.values)]
        for manifest in component.manifests:
            try:
                documents = list(yaml.safe_load_all(manifest.content))
            except yaml.YAMLError:  # a manifest a bundle carries as text; it names no image we can read
                continue
            found += [(image, manifest.source) for document in documents for image in manifest_images(document)]
        for image, source in found:
            if (image, component.name) not in seen:
                seen.add((image, component.name))
                images.append(Found(image, component.name, source))
    return Artifacts(tuple(charts), tuple(images))


def values_images(values: Any) -> Iterator[Image]:
    if isinstance(values, Mapping):
        pinned = pinned_image(values)
        if pinned is not None:
            yield pinned
        for key, value in values.items():
            if key == "image" and isinstance(value, str):
                image = parse_image(value)
                if image is not None and (image.tag or image.digest):
                    yield image
            else:
                yield from values_images(value)
    elif isinstance(values, list):
        for item in values:
            yield from values_images(item)


def pinned_image(values: Mapping[str, Any]) -> Image | None:
    repository, tag, digest, registry = (values.get(key) for key in ("repository", "tag", "digest", "registry"))
    if not isinstance(repository, str) or not (_scalar(tag) or (isinstance(digest, str) and digest)):
        return None
    text = f"{registry.rstrip('/')}/{repository}" if isinstance(registry, str) and registry else repository
    text += f":{tag}" if _scalar(tag) else ""
    text += f"@{digest}" if isinstance(digest, str) and digest else ""
    return parse_image(text)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and str(value) != ""


def manifest_images(document: Any) -> Iterator[Image]:
    if isinstance(document, Mapping):
        for key, value in document.items():
            if key in CONTAINER_LISTS and isinstance(value, list):
                for container in value:
                    text = container.get("image") if isinstance(container, Mapping) else None
                    image = parse_image(text) if isinstance(text, str) else None
                    if image is not None:
                        yield image
            yield from manifest_images(value)
    elif isinstance(document, list):
        for item in document:
            yield from manifest_images(item)
