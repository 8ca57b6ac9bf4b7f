"""sbom.cdx.json: in every bundle, covered by checksums.txt, valid against the CycloneDX 1.6 JSON
schema, the same bytes on every run; one component per chart and per pinned image, with package
URLs per the purl spec; and the image extraction's rules (bundle/artifacts.py)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

import aicrc
from aicrc.bundle import sbom
from aicrc.bundle.artifacts import Image, collect, manifest_images, parse_image, values_images
from aicrc.bundle.build import build_bundle
from aicrc.bundle.checksums import NAME as CHECKSUMS
from aicrc.bundle.deployers.base import Repository
from aicrc.bundle.recipe import Recipe, from_document
from tests.conftest import ROOT

RECIPES = sorted((ROOT / "recipes").glob("*.aicr"))


def recipe_of(library: aicrc.Library, name: str) -> Recipe:
    return from_document(library.compile_file(ROOT / "recipes" / f"{name}.aicr").document)


@pytest.mark.parametrize("path", RECIPES, ids=lambda path: path.stem)
def test_every_bundle_has_a_valid_deterministic_sbom(library: aicrc.Library, path: Path) -> None:
    recipe = from_document(library.compile_file(path).document)
    bundle = build_bundle(recipe, ["helm"])
    text = bundle[sbom.NAME].content.decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert f"  {sbom.NAME}\n" in bundle[CHECKSUMS].content.decode()
    assert build_bundle(recipe, ["helm"])[sbom.NAME].content == bundle[sbom.NAME].content
    document = json.loads(text)
    assert document["specVersion"] == "1.6"
    assert document["serialNumber"] == f"urn:uuid:{uuid.uuid5(sbom.SERIAL_NAMESPACE, recipe.digest)}"
    assert "timestamp" not in document["metadata"]
    assert document["metadata"]["component"]["name"] == recipe.name
    assert document["metadata"]["component"]["version"] == recipe.digest
    charts = {c["bom-ref"]: c for c in document["components"] if c["bom-ref"].startswith("chart:")}
    assert set(charts) == {f"chart:{c.name}" for c in recipe.components if c.chart}
    images = {c["bom-ref"] for c in document["components"] if c["type"] == "container"}
    assert images == {f"image:{image.reference}" for image in collect(recipe).unique_images}
    (root,) = [d for d in document["dependencies"] if d["ref"] == document["metadata"]["component"]["bom-ref"]]
    assert set(root["dependsOn"]) == set(charts) | images


def test_several_deployers_each_carry_one(library: aicrc.Library) -> None:
    recipe = recipe_of(library, "kind-inference")
    bundle = build_bundle(recipe, ["helm", "argocd"], Repository("https://example.com/repo.git", "HEAD"))
    assert bundle["helm/sbom.cdx.json"].content == bundle["argocd/sbom.cdx.json"].content


def test_chart_and_image_purls(library: aicrc.Library) -> None:
    document = json.loads(sbom.render(recipe_of(library, "h100-gke-training")))
    purls = {c["bom-ref"]: c["purl"] for c in document["components"]}
    assert purls["chart:cert-manager"] == "pkg:generic/cert-manager@v1.17.2?repository_url=https://charts.jetstack.io"
    assert purls["chart:kai-scheduler"] == "pkg:oci/kai-scheduler?repository_url=ghcr.io/nvidia/kai-scheduler/kai-scheduler&tag=v0.13.0"
    assert purls["image:docker.io/library/ubuntu:24.04"] == "pkg:docker/library/ubuntu@24.04"
    pause = "gke.gcr.io/pause:3.8@sha256:880e63f94b145e46f1b1082bb71b85e21f16b99b180b9996407d61240ceb9830"
    assert purls[f"image:{pause}"] == (
        "pkg:oci/pause@sha256:880e63f94b145e46f1b1082bb71b85e21f16b99b180b9996407d61240ceb9830?repository_url=gke.gcr.io/pause&tag=3.8"
    )
    nccl = "us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpxo/nccl-plugin-gpudirecttcpx-dev:v1.0.15"
    assert purls[f"image:{nccl}"] == (
        "pkg:docker/gce-ai-infra/gpudirect-tcpxo/nccl-plugin-gpudirecttcpx-dev@v1.0.15?repository_url=us-docker.pkg.dev"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ubuntu", Image("docker.io", "library/ubuntu", None, None)),
        ("ubuntu:24", Image("docker.io", "library/ubuntu", "24", None)),
        ("pytorch/pytorch:2.9.1-cuda12.8", Image("docker.io", "pytorch/pytorch", "2.9.1-cuda12.8", None)),
        ("localhost:5000/a/b:1", Image("localhost:5000", "a/b", "1", None)),
        ("nvcr.io/nvidia/driver@sha256:" + "a" * 64, Image("nvcr.io", "nvidia/driver", None, "sha256:" + "a" * 64)),
        ("{{ .Values.image }}", None),
        ("Not An Image", None),
    ],
)
def test_image_references(text: str, expected: Image | None) -> None:
    assert parse_image(text) == expected


def test_values_are_read_conservatively() -> None:
    values = {
        "image": {"repository": "registry.k8s.io/kube-rbac-proxy", "tag": "v0.15.0"},
        "split": {"registry": "quay.io", "repository": "org/app", "tag": 1.5},
        "pinned": {"repository": "nvcr.io/nvidia/x", "digest": "sha256:" + "b" * 64},
        "untagged": {"repository": "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver"},  # the chart's appVersion fills it in
        "helper": {"image": "busybox:1.36"},
        "bare": {"image": "busybox"},  # no tag: which one is up to the chart
        "unrelated": {"repository": "https://charts.example.com", "tag": True},
    }
    assert [image.reference for image in values_images(values)] == [
        "registry.k8s.io/kube-rbac-proxy:v0.15.0",
        "quay.io/org/app:1.5",
        "nvcr.io/nvidia/x@sha256:" + "b" * 64,
        "docker.io/library/busybox:1.36",
    ]


def test_manifests_name_images_in_container_lists() -> None:
    document = {
        "kind": "Skyhook",
        "spec": {"packages": {"tuning": {"image": "ghcr.io/nvidia/skyhook-packages/nvidia-tuned", "version": "1"}}},
        "template": {"spec": {"initContainers": [{"image": "busybox"}], "containers": [{"name": "main", "image": "a.io/b:1"}]}},
    }
    assert [image.reference for image in manifest_images(document)] == ["docker.io/library/busybox", "a.io/b:1"]
