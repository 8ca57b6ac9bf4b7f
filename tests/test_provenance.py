"""`aicrc bundle --sign KEYFILE` and `aicrc verify DIR --key KEYFILE.pub`: a DSSE envelope of an
in-toto statement with SLSA provenance, and the trust levels above checksums that it gives."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from aicrc import api
from aicrc.bundle import provenance
from aicrc.cli import main
from aicrc.version import __version__
from tests.conftest import FLAGSHIP


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    assert main(["keygen", "-o", str(folder / "key")]) == 0
    assert main(["keygen", "-o", str(folder / "other")]) == 0
    assert main(["keygen", "-o", str(folder / "ecdsa"), "--type", "ecdsa"]) == 0
    return folder


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, keys: Path) -> Path:
    folder = tmp_path_factory.mktemp("signed") / "bundle"
    assert main(["bundle", str(FLAGSHIP), "-o", str(folder), "--sign", str(keys / "key")]) == 0
    return folder


@pytest.fixture
def bundle(signed: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(signed, copy)
    return copy


def verify(folder: Path, key: Path, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str, str]:
    code = main(["verify", str(folder), "--key", str(key), *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def statement_of(folder: Path) -> dict[str, Any]:
    envelope = json.loads((folder / provenance.NAME).read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    result: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return result


def files_of(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and p.name != provenance.NAME
    }


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_signed_bundle_reaches_the_provenance_level(bundle: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = verify(bundle, keys / "key.pub", capsys)
    files = len(files_of(bundle))
    assert (code, err) == (0, "")
    assert out.splitlines()[1:] == [
        "trust level: provenance",
        f"  checksums  passed: {files - 1} files match checksums.txt",
        f"  signature  passed: {provenance.NAME} signed by key {out.split('signed by key ')[1][:16]}",
        f"  provenance passed: {files} files attested with their sha256",
    ]
    code, out, _ = verify(bundle, keys / "key.pub", capsys, "--format", "json")
    report = json.loads(out)
    assert report["trustLevel"] == "provenance" and [level["passed"] for level in report["levels"]] == [True, True, True]


def test_without_a_key_a_signed_bundle_reaches_checksums(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(bundle)]) == 0
    assert "trust level: checksums\n" in capsys.readouterr().out


def test_the_statement_names_every_file_the_recipe_the_inputs_and_the_builder(bundle: Path) -> None:
    statement = statement_of(bundle)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert {s["name"]: s["digest"]["sha256"] for s in statement["subject"]} == files_of(bundle)
    definition = statement["predicate"]["buildDefinition"]
    assert definition["buildType"] == provenance.BUILD_TYPE
    assert definition["externalParameters"] == {
        "recipe": "blackwell-eks-training",
        "criteria": {"service": "eks", "accelerator": "gb200", "os": "ubuntu", "intent": "training", "platform": "kubeflow"},
        "deployers": ["helm"],
    }
    compilation = api.compile_file(FLAGSHIP)
    expected = {name: hashlib.sha256(source.text.encode()).hexdigest() for name, source in compilation.sources.items()}
    assert {d["uri"]: d["digest"]["sha256"] for d in definition["resolvedDependencies"]} == expected
    assert expected[str(FLAGSHIP)] == hashlib.sha256(FLAGSHIP.read_bytes()).hexdigest()
    assert definition["internalParameters"]["recipeDigest"] == compilation.document["metadata"]["digest"]
    assert statement["predicate"]["runDetails"]["builder"] == {"id": provenance.BUILDER_ID, "version": {"aicrc": __version__}}


def test_from_a_compiled_file_the_file_is_the_dependency(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compiled = tmp_path / "compiled.yaml"
    assert main(["compile", str(FLAGSHIP), "-o", str(compiled)]) == 0
    assert main(["bundle", "--compiled", str(compiled), "-o", str(tmp_path / "b"), "--sign", str(keys / "key")]) == 0
    definition = statement_of(tmp_path / "b")["predicate"]["buildDefinition"]
    assert definition["resolvedDependencies"] == [
        {"uri": str(compiled), "digest": {"sha256": hashlib.sha256(compiled.read_bytes()).hexdigest()}}
    ]
    assert verify(tmp_path / "b", keys / "key.pub", capsys)[0] == 0


def test_ed25519_signed_bundles_are_byte_identical_and_ecdsa_ones_differ_only_in_the_signature(
    signed: Path, tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / "again"), "--sign", str(keys / "key")]) == 0
    assert files_of(tmp_path / "again") == files_of(signed)
    assert (tmp_path / "again" / provenance.NAME).read_bytes() == (signed / provenance.NAME).read_bytes()
    for run in ("e1", "e2"):
        assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / run), "--sign", str(keys / "ecdsa")]) == 0
        assert verify(tmp_path / run, keys / "ecdsa.pub", capsys)[0] == 0
    assert files_of(tmp_path / "e1") == files_of(signed)
    assert statement_of(tmp_path / "e1") == statement_of(tmp_path / "e2") == statement_of(signed)


def test_a_changed_byte_fails_checksums_and_provenance(bundle: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flip_a_byte(bundle / "gpu-operator" / "values.yaml")
    code, out, err = verify(bundle, keys / "key.pub", capsys)
    assert code == 1 and "trust level: none" in out
    assert "error[E0807]: gpu-operator/values.yaml does not match checksums.txt" in err
    assert f"error[E0853]: {bundle}/gpu-operator/values.yaml does not match {bundle}/{provenance.NAME}" in err


def test_rewritten_checksums_do_not_fool_the_provenance(bundle: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Someone changes a file and writes checksums.txt again: checksums pass, the signed statement does not."""
    flip_a_byte(bundle / "gpu-operator" / "values.yaml")
    listing = "".join(f"{digest}  {path}\n" for path, digest in sorted(files_of(bundle).items()) if path != "checksums.txt")
    (bundle / "checksums.txt").write_text(listing)
    code, out, err = verify(bundle, keys / "key.pub", capsys)
    assert code == 1 and "trust level: signature" in out and "provenance FAILED: 2 files differ" in out
    assert f"{bundle}/checksums.txt does not match" in err and f"{bundle}/gpu-operator/values.yaml does not match" in err


def test_a_wrong_key_fails_the_signature(bundle: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = verify(bundle, keys / "other.pub", capsys)
    assert code == 1 and "trust level: checksums" in out and "signature  FAILED" in out
    assert f"error[E0852]: the signature of {bundle}/{provenance.NAME} does not verify with the key given" in err


def test_a_tampered_envelope_fails_the_signature(bundle: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    envelope = json.loads((bundle / provenance.NAME).read_text())
    statement = statement_of(bundle)
    statement["predicate"]["buildDefinition"]["externalParameters"]["recipe"] = "something-else"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (bundle / provenance.NAME).write_text(json.dumps(envelope))
    code, out, err = verify(bundle, keys / "key.pub", capsys)
    assert code == 1 and "trust level: checksums" in out and "error[E0852]" in err


@pytest.mark.parametrize("content", ["", "not json\n", '{"payload": "!!", "payloadType": "x", "signatures": []}\n', "[]\n"])
def test_a_malformed_envelope_is_named(content: str, bundle: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (bundle / provenance.NAME).write_text(content)
    code, out, err = verify(bundle, keys / "key.pub", capsys)
    assert code == 1 and "trust level: checksums" in out
    assert f"error[E0851]: {bundle}/{provenance.NAME} is not a DSSE envelope of an in-toto statement" in err
    assert "Traceback" not in err


def test_an_unsigned_bundle_with_a_key_stops_at_checksums(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / "b")]) == 0
    code, out, err = verify(tmp_path / "b", keys / "key.pub", capsys)
    assert code == 1 and "trust level: checksums" in out
    assert f"error[E0851]: {tmp_path}/b/{provenance.NAME} is missing: the bundle is not signed" in err


def test_a_file_added_after_signing_is_not_attested(bundle: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (bundle / "extra.yaml").write_text("kind: Secret\n")
    code, _, err = verify(bundle, keys / "key.pub", capsys)
    assert code == 1 and "E0809" in err
    assert f"error[E0853]: {bundle}/extra.yaml is not a subject of {bundle}/{provenance.NAME}" in err


def test_several_deployers_are_signed_as_one_bundle(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "b"
    assert main(["bundle", str(FLAGSHIP), "-d", "helm", "-d", "helmfile", "-o", str(out), "--sign", str(keys / "key")]) == 0
    assert "trust level: provenance" in verify(out, keys / "key.pub", capsys)[1]
    assert statement_of(out)["predicate"]["buildDefinition"]["externalParameters"]["deployers"] == ["helm", "helmfile"]
    assert main(["verify", str(out / "helm")]) == 0  # each part still verifies alone, at checksums


def test_a_key_that_cannot_be_read_writes_no_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / "b"), "--sign", str(tmp_path / "missing")]) == 1
    assert "error[E0850]" in capsys.readouterr().err and not (tmp_path / "b").exists()
