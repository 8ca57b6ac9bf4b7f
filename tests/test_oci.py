"""`aicrc bundle -o oci://...`, `aicrc pull` and `aicrc verify oci://...` against a real registry
(Debian's docker-registry, the CNCF distribution registry, on loopback over HTTP), and the
reproducible tar.gz layer the bundle travels in."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import socket
import subprocess
import tarfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from aicrc import diagnostics as diag
from aicrc.bundle import oci, tarball
from aicrc.bundle.files import Bundle
from aicrc.cli import main
from tests.conftest import FLAGSHIP

REGISTRY = Path("/usr/bin/docker-registry")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """HOST:PORT of a registry that runs for this module, storing in a temporary folder."""
    if not REGISTRY.is_file():
        pytest.skip("no /usr/bin/docker-registry (apt-get install docker-registry)")
    folder = tmp_path_factory.mktemp("registry")
    address = f"127.0.0.1:{free_port()}"
    config = folder / "config.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\nhttp:\n  addr: {address}\n"
    )
    process = subprocess.Popen([str(REGISTRY), "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://{address}/v2/", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the registry did not start on {address}")
                time.sleep(0.05)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    assert main(["keygen", "-o", str(folder / "key")]) == 0
    return folder


def files_of(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mode & 0o777) for p in folder.rglob("*") if p.is_file()}


def tags(registry: str, repository: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"http://{registry}/v2/{repository}/tags/list", timeout=5) as answer:
            found: list[str] = json.load(answer).get("tags") or []
            return found
    except urllib.error.HTTPError:
        return []


def test_a_pushed_bundle_pulls_back_byte_identical_and_verifies(
    registry: str, keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = f"oci://{registry}/aicrc/flagship:v1"
    assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / "local"), "--sign", str(keys / "key")]) == 0
    assert main(["bundle", str(FLAGSHIP), "-o", reference, "--sign", str(keys / "key")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"pushed {reference}@sha256:")
    assert main(["pull", reference, "-o", str(tmp_path / "pulled")]) == 0
    assert files_of(tmp_path / "pulled") == files_of(tmp_path / "local")  # contents and modes (deploy.sh 0755)
    capsys.readouterr()
    assert main(["verify", reference, "--key", str(keys / "key.pub")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"bundle: {reference}\ntrust level: provenance\n")


def test_the_manifest_is_an_oci_artifact_and_pushing_again_gives_the_same_digest(
    registry: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = f"oci://{registry}/aicrc/again:v2"
    digests = []
    for _ in range(2):
        assert main(["bundle", str(FLAGSHIP), "-o", reference]) == 0
        digests.append(capsys.readouterr().out.split("@", 1)[1].split(":")[1])  # `pushed REF@sha256:HEX: ...`
    assert digests[0] == digests[1]
    request = urllib.request.Request(f"http://{registry}/v2/aicrc/again/manifests/v2", headers={"Accept": oci.MANIFEST_TYPE})
    with urllib.request.urlopen(request, timeout=5) as answer:
        body = answer.read()
    assert hashlib.sha256(body).hexdigest() == digests[0]
    manifest = json.loads(body)
    assert manifest["artifactType"] == "application/vnd.aicrc.bundle.v1"
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert [layer["mediaType"] for layer in manifest["layers"]] == [tarball.MEDIA_TYPE]
    assert manifest["annotations"]["org.opencontainers.image.title"] == "blackwell-eks-training"
    assert manifest["annotations"]["org.opencontainers.image.version"] == "v2"


def test_an_interrupted_push_leaves_no_tag(registry: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The manifest goes last: a push that fails after its first blob tags nothing."""
    real = oci._Registry.put_blob
    calls = []

    def fail_on_the_layer(self: oci._Registry, data: bytes) -> dict[str, object]:
        calls.append(len(data))
        if len(calls) == 2:
            raise diag.error("E0855", "connection reset (simulated)")
        return real(self, data)

    monkeypatch.setattr(oci._Registry, "put_blob", fail_on_the_layer)
    assert main(["bundle", str(FLAGSHIP), "-o", f"oci://{registry}/aicrc/interrupted:v1"]) == 1
    assert "error[E0855]: connection reset (simulated)" in capsys.readouterr().err
    assert tags(registry, "aicrc/interrupted") == []


def test_a_registry_that_is_down_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    reference = f"oci://127.0.0.1:{free_port()}/aicrc/down:v1"
    assert main(["bundle", str(FLAGSHIP), "-o", reference]) == 1
    err = capsys.readouterr().err
    assert "error[E0855]: cannot reach the registry 127.0.0.1:" in err and "Traceback" not in err
    assert main(["pull", reference, "-o", str(tmp_path / "b")]) == 1
    assert "E0855" in capsys.readouterr().err and not (tmp_path / "b").exists()


def test_a_registry_that_does_not_answer_times_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True)
        thread.start()
        monkeypatch.setenv(oci.TIMEOUT_VARIABLE, "0.5")
        started = time.monotonic()
        assert main(["pull", f"oci://127.0.0.1:{silent.getsockname()[1]}/aicrc/slow:v1", "-o", str(tmp_path / "b")]) == 1
        assert time.monotonic() - started < 5
        for connection in accepted:
            connection.close()
    err = capsys.readouterr().err
    assert "error[E0855]: cannot reach the registry" in err and "timed out" in err and "within 0.5s" in err


def test_a_missing_tag_and_a_foreign_artifact_are_refused(registry: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pull", f"oci://{registry}/aicrc/flagship:missing", "-o", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert "error[E0855]: the registry" in err and "HTTP 404: MANIFEST_UNKNOWN" in err and not (tmp_path / "a").exists()
    reference = oci.parse_reference(f"oci://{registry}/aicrc/foreign:v1")
    config = oci._Registry(reference).put_blob(oci.EMPTY) | {"mediaType": oci.EMPTY_TYPE}
    manifest = {"schemaVersion": 2, "mediaType": oci.MANIFEST_TYPE, "config": config, "layers": []}
    request = urllib.request.Request(
        f"http://{registry}/v2/aicrc/foreign/manifests/v1",
        data=json.dumps(manifest).encode(),
        method="PUT",
        headers={"Content-Type": oci.MANIFEST_TYPE},
    )
    urllib.request.urlopen(request, timeout=5).close()
    assert main(["pull", str(reference), "-o", str(tmp_path / "b")]) == 1
    assert "error[E0856]" in capsys.readouterr().err and not (tmp_path / "b").exists()


@pytest.mark.parametrize("text", ["oci://", "oci://host/Upper:v1", "oci://host/repo", "oci://host/repo:-bad", "oci://host:99999999/r:t"])
def test_a_malformed_reference_is_a_usage_error(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pull", text, "-o", str(tmp_path / "b")]) == 2
    assert "error[E0854]: not an OCI reference" in capsys.readouterr().err
    assert main(["bundle", str(FLAGSHIP), "-o", text]) == 2
    assert main(["verify", text]) == 2


def test_loopback_registries_are_spoken_to_over_http_others_over_https() -> None:
    for host, loopback in [("127.0.0.1:5000", True), ("localhost", True), ("[::1]:5000", True), ("registry.example.com", False)]:
        assert oci.parse_reference(f"oci://{host}/a/b:c").loopback is loopback


def test_the_layer_is_reproducible() -> None:
    bundle = Bundle()
    bundle.add("z.txt", "last\n")
    bundle.add("a/deploy.sh", "#!/bin/sh\n", executable=True)
    bundle.add("a/" + "long-name-" * 12 + ".yaml", "x: 1\n")
    data = tarball.pack(bundle)
    assert data == tarball.pack(bundle)
    assert data[4:8] == b"\0\0\0\0"  # gzip MTIME
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(bundle)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
    assert [m.mode for m in members] == [0o755, 0o644, 0o644]
    back = tarball.unpack(data, "test")
    assert {path: (f.content, f.mode) for path, f in back.items()} == {path: (f.content, f.mode) for path, f in bundle.items()}


@pytest.mark.parametrize("kind", ["symlink", "outside", "absolute", "not gzip"])
def test_an_archive_that_could_escape_the_folder_is_refused(kind: str) -> None:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo({"outside": "../evil", "absolute": "/etc/evil"}.get(kind, "link"))
        if kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info, io.BytesIO(b""))
    data = b"plain" if kind == "not gzip" else gzip.compress(archive.getvalue(), mtime=0)
    with pytest.raises(diag.AicrcError) as failure:
        tarball.unpack(data, "oci://host/r:t")
    assert [d.code for d in failure.value.diagnostics] == ["E0856"]


def test_the_sbom_and_the_provenance_are_referrers_of_the_bundle(
    registry: str, keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OCI 1.1 referrers, through the referrers tag schema (distribution 2.8 has no referrers API)."""
    assert main(["bundle", str(FLAGSHIP), "-o", f"oci://{registry}/aicrc/referred:v1", "--sign", str(keys / "key")]) == 0
    digest = capsys.readouterr().out.split("@", 1)[1].split(":")[1]
    assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / "local"), "--sign", str(keys / "key")]) == 0

    def get(path: str, accept: str) -> bytes:
        request = urllib.request.Request(f"http://{registry}/v2/aicrc/referred/{path}", headers={"Accept": accept})
        with urllib.request.urlopen(request, timeout=5) as answer:
            data: bytes = answer.read()
            return data

    index = json.loads(get(f"manifests/sha256-{digest}", oci.INDEX_TYPE))
    found = {}
    for entry in index["manifests"]:
        manifest = json.loads(get(f"manifests/{entry['digest']}", oci.MANIFEST_TYPE))
        assert manifest["subject"]["digest"] == f"sha256:{digest}" and manifest["artifactType"] == entry["artifactType"]
        (layer,) = manifest["layers"]
        found[layer["annotations"]["org.opencontainers.image.title"]] = get(f"blobs/{layer['digest']}", "*/*")
    names = {"provenance.intoto.jsonl"} | ({"sbom.cdx.json"} if (tmp_path / "local" / "sbom.cdx.json").exists() else set())
    assert set(found) == names
    assert all(found[name] == (tmp_path / "local" / name).read_bytes() for name in names)
    # pushing again keeps one entry per referrer
    assert main(["bundle", str(FLAGSHIP), "-o", f"oci://{registry}/aicrc/referred:v1", "--sign", str(keys / "key")]) == 0
    assert len(json.loads(get(f"manifests/sha256-{digest}", oci.INDEX_TYPE))["manifests"]) == len(names)
