"""`aicrc mirror` (text, JSON, a `skopeo sync` file) and `aicrc bundle --registry-mirror HOST`: the
same images and charts as the SBOM, and a bundle whose every listed image and OCI chart is on HOST."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import aicrc
from aicrc.bundle.artifacts import collect, manifest_images, parse_image, values_images
from aicrc.bundle.build import build_bundle
from aicrc.bundle.mirror import mirrored
from aicrc.bundle.recipe import Recipe, from_document
from aicrc.cli import main
from tests.conftest import ROOT

HOST = "mirror.example.com:5000"


@pytest.fixture(scope="module")
def gke() -> Recipe:
    return from_document(aicrc.load_library(use_env=False).compile_file(ROOT / "recipes" / "h100-gke-training.aicr").document)


def test_text_lists_charts_and_images(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mirror", "h100-gke-training"]) == 0
    out = capsys.readouterr().out
    assert "  cert-manager: cert-manager v1.17.2 from https://charts.jetstack.io\n" in out
    assert "  kai-scheduler: oci://ghcr.io/nvidia/kai-scheduler/kai-scheduler v0.13.0\n" in out
    assert "  docker.io/library/ubuntu:24.04 (gke-nccl-tcpxo)\n" in out


def test_json_is_what_the_sbom_lists(gke: Recipe, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mirror", "h100-gke-training", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    found = collect(gke)
    assert [image["reference"] for image in listed["images"]] == [image.reference for image in found.unique_images]
    assert [chart["component"] for chart in listed["charts"]] == [ref.component for ref in found.charts]
    sbom = json.loads(build_bundle(gke, ["helm"])["sbom.cdx.json"].content)
    assert {f"image:{image['reference']}" for image in listed["images"]} == {
        c["bom-ref"] for c in sbom["components"] if c["type"] == "container"
    }


def test_skopeo_sync_file(tmp_path: Path) -> None:
    output = tmp_path / "sync.yaml"
    assert main(["mirror", "h100-gke-training", "--format", "skopeo", "-o", str(output)]) == 0
    sync = yaml.safe_load(output.read_text())
    assert sync["docker.io"] == {"images": {"library/ubuntu": ["24.04"], "pytorch/pytorch": ["2.9.1-cuda12.8-cudnn9-runtime"]}}
    assert sync["gke.gcr.io"]["images"]["pause"] == ["sha256:880e63f94b145e46f1b1082bb71b85e21f16b99b180b9996407d61240ceb9830"]
    assert list(sync) == sorted(sync)


def test_mirror_reads_a_compiled_recipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compiled = tmp_path / "compiled.yaml"
    assert main(["compile", "h100-gke-training", "-o", str(compiled)]) == 0
    capsys.readouterr()
    assert main(["mirror", "--compiled", str(compiled)]) == 0
    from_file = capsys.readouterr().out
    assert main(["mirror", "h100-gke-training"]) == 0
    assert capsys.readouterr().out == from_file


@pytest.mark.parametrize("name", ["h100-gke-training", "blackwell-eks-training"])
def test_a_mirrored_bundle_pulls_only_from_the_mirror(name: str) -> None:
    recipe = from_document(aicrc.load_library(use_env=False).compile_file(ROOT / "recipes" / f"{name}.aicr").document)
    bundle = build_bundle(recipe, ["helm"], registry_mirror=HOST)
    assert from_document(yaml.safe_load(bundle["recipe.yaml"].content)) == recipe  # recipe.yaml stays the compiled recipe
    originals = collect(recipe).unique_images
    assert originals
    in_bundle = []  # every image the bundle's values and manifests name, read back as artifacts.py reads them
    for path, file in bundle.items():
        if path.endswith("/values.yaml"):
            in_bundle += values_images(yaml.safe_load(file.content))
        elif "/manifests/" in path:
            in_bundle += [image for document in yaml.safe_load_all(file.content) for image in manifest_images(document)]
    assert sorted(image.reference for image in set(in_bundle)) == sorted(mirrored(image, HOST).reference for image in originals)
    sbom = json.loads(bundle["sbom.cdx.json"].content)
    containers = [c["name"] for c in sbom["components"] if c["type"] == "container"]
    assert containers and all(name.startswith(f"{HOST}/") for name in containers)
    script = bundle["deploy.sh"].content.decode()
    for component in recipe.components:
        if component.chart is not None and component.chart.is_oci:
            scoped = component.chart.repository.replace("oci://", f"oci://{HOST}/")
            assert scoped in script and f" {component.chart.repository}" not in script
        elif component.chart is not None:
            assert component.chart.repository in script  # an HTTP repository is not a registry: left as it is


def test_values_split_into_registry_and_repository_are_rewritten() -> None:
    from aicrc.bundle.mirror import rewrite

    recipe = from_document(aicrc.load_library(use_env=False).compile_file(ROOT / "recipes" / "kind-inference.aicr").document)
    component = recipe.components[0].replace(
        values={"image": {"registry": "quay.io", "repository": "org/app", "tag": "1"}, "untagged": {"repository": "a.io/b"}}
    )
    (moved,) = rewrite(recipe.replace(components=(component,)), HOST).components
    assert moved.values == {"image": {"repository": f"{HOST}/quay.io/org/app", "tag": "1"}, "untagged": {"repository": "a.io/b"}}


@pytest.mark.parametrize("host", ["https://mirror.example.com", "Mirror.Example.com", "", "mirror.example.com/"])
def test_a_mirror_that_is_not_a_registry_host_is_a_usage_error(host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "kind-inference", "-o", str(tmp_path / "out"), "--registry-mirror", host]) == 2
    assert "expected a registry host, HOST[:PORT][/PATH]" in capsys.readouterr().err


def _tiny_image(layout: Path) -> None:
    """A one-layer OCI image layout, made here: nothing is downloaded."""
    import gzip
    import hashlib
    import io
    import tarfile

    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def blob(data: bytes, media_type: str) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}

    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info = tarfile.TarInfo("hello.txt")
        info.size = 6
        archive.addfile(info, io.BytesIO(b"hello\n"))
    layer = gzip.compress(tar.getvalue(), mtime=0)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(tar.getvalue()).hexdigest()}"]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json"),
        "layers": [blob(layer, "application/vnd.oci.image.layer.v1.tar+gzip")],
    }
    entry = blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))


def _registry(root: Path, port: int = 0) -> tuple[str, subprocess.Popen[bytes]]:
    """A Docker registry serving plain HTTP on the loopback; port 0: any free one."""
    import socket
    import time

    try:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the registry (Go) does: TIME_WAIT is no obstacle
            probe.bind(("127.0.0.1", port))
            address = f"127.0.0.1:{probe.getsockname()[1]}"
    except OSError:
        pytest.skip(f"cannot listen on 127.0.0.1:{port}")
    config = root / "config.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\nhttp:\n  addr: {address}\n")
    process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", int(address.rpartition(":")[2]))) == 0:
                return address.removesuffix(":80"), process
        time.sleep(0.05)
    process.kill()
    pytest.skip("the loopback registry did not start")


@pytest.mark.skipif(
    not (shutil.which("skopeo") and shutil.which("docker-registry")),
    reason="needs Debian's skopeo and docker-registry packages",
)
def test_skopeo_sync_copies_an_image_where_the_mirrored_bundle_pulls_it(tmp_path: Path) -> None:
    from aicrc.bundle.artifacts import Artifacts, Found
    from aicrc.bundle.mirror import skopeo_sync

    _tiny_image(tmp_path / "layout")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # The source listens on port 80, so that its name has no port: a scoped mirror path cannot hold `:`.
    source, first = _registry(tmp_path / "a", 80)
    mirror, second = _registry(tmp_path / "b")
    try:
        image = parse_image(f"{source}/team/tiny:1.0")
        assert image is not None
        insecure = "--dest-tls-verify=false"
        copy = ["skopeo", "copy", "--insecure-policy", insecure, f"oci:{tmp_path / 'layout'}", f"docker://{image.reference}"]
        subprocess.run(copy, check=True, capture_output=True, timeout=60)
        sync = skopeo_sync(Artifacts((), (Found(image, "tiny", "values"),)))
        sync[source]["tls-verify"] = False  # a loopback registry speaks plain HTTP
        (tmp_path / "sync.yaml").write_text(yaml.safe_dump(sync))
        command = [
            "skopeo",
            "sync",
            "--scoped",
            "--insecure-policy",
            "--src",
            "yaml",
            "--dest",
            "docker",
            insecure,
            str(tmp_path / "sync.yaml"),
            mirror,
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        target = mirrored(image, mirror).reference
        inspect = ["skopeo", "inspect", "--tls-verify=false", f"docker://{target}"]
        assert json.loads(subprocess.run(inspect, check=True, capture_output=True, timeout=60).stdout)["Name"] == target.rsplit(":", 1)[0]
    finally:
        for process in (first, second):
            process.kill()
            process.wait()
