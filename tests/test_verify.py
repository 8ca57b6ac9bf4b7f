"""`aicrc verify DIR`: every file of a bundle against its checksums.txt, as a trust level; exit 0
when all match, 1 naming each file changed, missing or added, 2 when DIR is not a bundle."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from aicrc.cli import main
from tests.conftest import FLAGSHIP, ROOT

REFERENCE = ROOT / "tests" / "reference" / "aicr-v0.11.1" / "bundle"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pristine") / "bundle"
    assert main(["bundle", str(FLAGSHIP), "-o", str(folder)]) == 0
    return folder


@pytest.fixture
def bundle(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(pristine, copy)
    return copy


def verify(folder: Path, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str, str]:
    code = main(["verify", str(folder), *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_bundle_as_written_reaches_the_checksums_level(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = verify(bundle, capsys)
    files = len([p for p in bundle.rglob("*") if p.is_file()]) - 1  # all but checksums.txt itself
    assert (code, err) == (0, "")
    assert out == f"bundle: {bundle}\ntrust level: checksums\n  checksums  passed: {files} files match checksums.txt\n"


def test_one_changed_byte_fails_and_names_the_file(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = bundle / "gpu-operator" / "values.yaml"
    data = bytearray(values.read_bytes())
    data[-2] ^= 0x01
    values.write_bytes(bytes(data))
    code, out, err = verify(bundle, capsys)
    assert code == 1
    assert "error[E0807]: gpu-operator/values.yaml does not match checksums.txt" in err
    assert re.search(r"--> .*checksums\.txt:\d+:1\n", err) and "  gpu-operator/values.yaml\n" in err  # the line, with a caret
    assert "trust level: none" in out and "1 changed, 0 missing, 0 not listed" in out


def test_missing_and_added_files_are_each_named(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (bundle / "nfd" / "README.md").unlink()
    (bundle / "gpu-operator" / "manifests" / "extra.yaml").write_text("kind: Secret\n")
    code, out, err = verify(bundle, capsys)
    assert code == 1
    assert "error[E0808]: nfd/README.md is missing" in err
    assert f"error[E0809]: {bundle}/gpu-operator/manifests/extra.yaml is in the bundle but not in checksums.txt" in err
    assert "0 changed, 1 missing, 1 not listed" in out


def test_a_symbolic_link_is_not_followed(bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside.yaml"
    shutil.copy(bundle / "nfd" / "values.yaml", outside)  # same bytes: only the link differs
    (bundle / "nfd" / "values.yaml").unlink()
    (bundle / "nfd" / "values.yaml").symlink_to(outside)
    code, _, err = verify(bundle, capsys)
    assert code == 1 and "error[E0807]: nfd/values.yaml does not match" in err and "not a plain file" in err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not a checksum line", "line 41 of checksums.txt is not `SHA256  PATH`"),
        (f"{'0' * 64}  ../../etc/passwd", "checksums.txt names '../../etc/passwd', outside the bundle"),
        (f"{'0' * 64}  /etc/passwd", "checksums.txt names '/etc/passwd', outside the bundle"),
    ],
)
def test_a_tampered_checksums_file_fails(bundle: Path, capsys: pytest.CaptureFixture[str], line: str, message: str) -> None:
    listing = bundle / "checksums.txt"
    assert len(listing.read_text().splitlines()) == 40
    listing.write_text(listing.read_text() + line + "\n")
    code, _, err = verify(bundle, capsys)
    assert code == 1 and f"error[E0806]: {message}" in err


def test_a_file_listed_twice_points_at_both_lines(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listing = bundle / "checksums.txt"
    first = listing.read_text().splitlines()[0]
    listing.write_text(listing.read_text() + first + "\n")
    code, _, err = verify(bundle, capsys)
    assert code == 1 and "error[E0806]: checksums.txt lists README.md twice" in err and "first listed here" in err


def test_a_folder_that_is_not_a_bundle_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = verify(tmp_path / "nowhere", capsys)
    assert (code, out) == (2, "") and "error[E0805]: not a bundle:" in err and "is not a folder" in err
    code, _, err = verify(tmp_path, capsys)
    assert code == 2 and f"error[E0805]: not a bundle: {tmp_path} has no checksums.txt" in err
    code, out, _ = verify(tmp_path, capsys, "--format", "json")
    assert code == 2 and json.loads(out)["errors"][0]["code"] == "E0805"


def test_json_report(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(bundle, capsys, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["trustLevel"] == "checksums" and report["problems"] == []
    assert report["levels"] == [{"level": "checksums", "passed": True, "summary": report["levels"][0]["summary"]}]
    (bundle / "README.md").write_text("changed")
    code, out, _ = verify(bundle, capsys, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["trustLevel"] == "none"
    assert [(p["code"], p["message"]) for p in report["problems"]] == [("E0807", "README.md does not match checksums.txt")]


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="sha256sum (GNU coreutils) is not installed")
def test_sha256sum_reads_our_checksums(pristine: Path) -> None:
    result = subprocess.run(["sha256sum", "--check", "--strict", "checksums.txt"], cwd=pristine, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "recipe.yaml: OK" in result.stdout


def test_our_checksums_use_the_reference_format_sorted_and_complete(pristine: Path) -> None:
    line = re.compile(r"[0-9a-f]{64}  \S+")
    for listing in (pristine / "checksums.txt", REFERENCE / "gb200-eks-ubuntu-training-kubeflow-helm" / "checksums.txt"):
        assert all(line.fullmatch(entry) for entry in listing.read_text().splitlines()), listing
    paths = [entry.split("  ", 1)[1] for entry in (pristine / "checksums.txt").read_text().splitlines()]
    assert paths == sorted(paths)
    assert set(paths) == {p.relative_to(pristine).as_posix() for p in pristine.rglob("*") if p.is_file()} - {"checksums.txt"}


@pytest.mark.parametrize("leaf", ["gb200-eks-ubuntu-training-kubeflow-helm", "gb200-eks-ubuntu-inference-dynamo-helm"])
def test_the_reference_helm_bundles_leave_their_recipe_unchecked(leaf: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The reference writes recipe.yaml after its checksums: every file it lists matches, and verify
    names the one it does not list."""
    code, _, err = verify(REFERENCE / leaf, capsys)
    assert code == 1
    assert re.findall(r"error\[(E\d+)\]: (\S+)", err) == [("E0809", f"{REFERENCE / leaf}/recipe.yaml")]


def test_the_reference_argocd_bundle_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(REFERENCE / "gb200-eks-ubuntu-inference-dynamo-argocd", capsys)
    assert code == 0 and "trust level: checksums" in out
