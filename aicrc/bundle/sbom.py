"""sbom.cdx.json: a CycloneDX 1.6 SBOM of what a bundle installs, written by cyclonedx-python-lib.

The recipe is the metadata component (its name, its digest as version); it depends on one component
per chart and one per container image that artifacts.py finds. Package URLs follow the purl spec:
an image is `pkg:docker/...` by tag, `pkg:oci/...` when pinned by digest (the oci type's version is a
digest); a chart in an OCI registry is `pkg:oci/NAME?repository_url=...&tag=VERSION`, one in an
HTTP repository `pkg:generic/NAME@VERSION?repository_url=URL` (the spec has no helm type).

The file is a function of the recipe: the serial number is a UUID5 of the recipe's digest and
there is no timestamp (optional in CycloneDX; a clock would break byte-identical bundles).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from aicrc.bundle.artifacts import DOCKER_HUB, Artifacts, ChartRef, Image, collect
from aicrc.bundle.recipe import Recipe
from aicrc.version import __version__

if TYPE_CHECKING:
    from cyclonedx.model import Property
    from cyclonedx.model.component import Component
    from packageurl import PackageURL

NAME = "sbom.cdx.json"
# UUID5 namespace for serial numbers: a fixed UUID of aicrc's own, so equal digests give equal serials.
SERIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/NVIDIA/aicr#aicrc-sbom")


def render(recipe: Recipe, artifacts: Artifacts | None = None) -> str:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    found = artifacts or collect(recipe)
    bom = Bom(serial_number=uuid.uuid5(SERIAL_NAMESPACE, recipe.digest))
    root = Component(type=ComponentType.APPLICATION, name=recipe.name, version=recipe.digest, bom_ref=f"recipe:{recipe.name}")
    bom.metadata.component = root
    bom.metadata.tools.components.add(Component(type=ComponentType.APPLICATION, name="aicrc", version=__version__))
    parts = [_chart(ref) for ref in found.charts]
    users: dict[Image, list[str]] = {}
    for use in found.images:
        users.setdefault(use.image, []).append(use.component)
    parts += [_image(image, users[image]) for image in found.unique_images]
    for part in parts:
        bom.components.add(part)
    bom.register_dependency(root, parts)
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    del document["metadata"]["timestamp"]  # see the module docstring
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _chart(ref: ChartRef) -> Component:
    from cyclonedx.model.component import Component, ComponentType

    chart = ref.chart
    return Component(
        type=ComponentType.APPLICATION,
        name=chart.name,
        version=chart.version,
        purl=chart_purl(ref),
        bom_ref=f"chart:{ref.component}",
        properties=_properties(("aicrc:component", ref.component), ("aicrc:chart-repository", chart.repository)),
    )


def _image(image: Image, components: list[str]) -> Component:
    from cyclonedx.model.component import Component, ComponentType

    return Component(
        type=ComponentType.CONTAINER,
        name=f"{image.registry}/{image.repository}",
        version=image.digest or image.tag or "latest",
        purl=image_purl(image),
        bom_ref=f"image:{image.reference}",
        properties=_properties(*(("aicrc:component", name) for name in components)),
    )


def chart_purl(ref: ChartRef) -> PackageURL:
    from packageurl import PackageURL

    chart = ref.chart
    if chart.is_oci:
        location = chart.reference.removeprefix("oci://")
        return PackageURL("oci", None, chart.name.lower(), None, {"repository_url": location, "tag": chart.version})
    return PackageURL("generic", None, chart.name, chart.version, {"repository_url": chart.repository})


def image_purl(image: Image) -> PackageURL:
    from packageurl import PackageURL

    *namespace, name = image.repository.split("/")
    if image.digest:
        qualifiers = {"repository_url": f"{image.registry}/{image.repository}"} | ({"tag": image.tag} if image.tag else {})
        return PackageURL("oci", None, name, image.digest, qualifiers)
    registry = {} if image.registry == DOCKER_HUB else {"repository_url": image.registry}
    return PackageURL("docker", "/".join(namespace) or None, name, image.tag, registry)


def _properties(*pairs: tuple[str, str]) -> list[Property]:
    from cyclonedx.model import Property

    return [Property(name=name, value=value) for name, value in pairs]
