"""scripts/release.py: aicrc's own release carries the evidence its bundles carry.

The script runs once for real (pypa/build builds the wheel and sdist from this tree, ~10 s), signed
with a key `aicrc keygen` made; a second run on the same files (--prebuilt) checks that the evidence
is byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError

from aicrc.bundle.provenance import PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE
from aicrc.bundle.signing import load_public_key
from aicrc.version import __version__

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "release.py"
WHEEL = f"aicrc-{__version__}-py3-none-any.whl"
SDIST = f"aicrc-{__version__}.tar.gz"
SBOM = f"aicrc-{__version__}.cdx.json"
PROVENANCE = f"aicrc-{__version__}.intoto.jsonl"


def release(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "release.key"
    done = subprocess.run([sys.executable, "-m", "aicrc", "keygen", "-o", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, key: Path) -> Path:
    output = tmp_path_factory.mktemp("release") / "dist"
    done = release("--key", str(key), "-o", str(output))
    assert done.returncode == 0, done.stdout + done.stderr
    return output


def test_release_writes_the_dists_and_their_evidence(dist: Path) -> None:
    assert sorted(path.name for path in dist.iterdir()) == sorted([WHEEL, SDIST, SBOM, PROVENANCE, "SHA256SUMS"])


def test_the_wheel_ships_its_build_time_work_and_a_compile_without_cache_uses_it(dist: Path, tmp_path: Path) -> None:
    # the parser's tables, the library and recipes parsed, their manifests checked: a compile with
    # no cache from the unpacked wheel imports neither Lark nor PyYAML, and prints what a checkout does
    site = tmp_path / "site"
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        names = set(wheel.namelist())
        wheel.extractall(site)
    for shipped in ("aicrc/compiler/syntax/aicr.tables", "aicrc/compiler/syntax/aicr.asts", "aicrc/compiler/load/manifests.valid"):
        assert shipped in names, shipped
    probe = (
        "import sys; from aicrc.cli import main; main(['compile', 'blackwell-eks-training']); "
        "print('imported:', sorted(name for name in ('lark', 'yaml', 'networkx', 'dataclasses') if name in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "AICRC_NO_CACHE": "1"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    *document, imported = done.stdout.splitlines()
    assert imported == "imported: []"
    checkout = subprocess.run([sys.executable, "-m", "aicrc", "compile", "blackwell-eks-training"], capture_output=True, text=True)
    assert "\n".join(document) + "\n" == checkout.stdout


def test_checksums_cover_every_other_file(dist: Path) -> None:
    lines = (dist / "SHA256SUMS").read_text().splitlines()
    listed = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
    assert sorted(listed) == sorted([WHEEL, SDIST, SBOM, PROVENANCE])
    for name, digest in listed.items():
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest


def test_sbom_is_valid_cyclonedx_1_6_of_the_dependency_closure(dist: Path) -> None:
    text = (dist / SBOM).read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    document = json.loads(text)
    root = document["metadata"]["component"]
    assert (root["name"], root["version"], root["purl"]) == ("aicrc", __version__, f"pkg:pypi/aicrc@{__version__}")
    purls = {component["name"]: component["purl"] for component in document["components"]}
    # direct requirements, one through an extra (securesystemslib[crypto] -> cryptography) and transitive ones
    for name in ("lark", "pydantic", "pydantic-core", "securesystemslib", "cryptography", "cyclonedx-python-lib", "packageurl-python"):
        assert purls[name].startswith(f"pkg:pypi/{name}@"), name
    assert all(purl.startswith("pkg:pypi/") and "@" in purl for purl in purls.values())
    # nothing from the test extra
    assert "pytest" not in purls
    direct = next(item["dependsOn"] for item in document["dependencies"] if item["ref"] == root["bom-ref"])
    assert purls["lark"] in direct and purls["pydantic-core"] not in direct


def test_provenance_verifies_and_its_subjects_are_the_files(dist: Path, key: Path) -> None:
    envelope = Envelope.from_dict(json.loads((dist / PROVENANCE).read_text()))
    public = load_public_key(key.with_name(key.name + ".pub"))
    envelope.verify([public], 1)  # raises on a bad signature
    assert envelope.payload_type == PAYLOAD_TYPE
    statement = json.loads(envelope.payload)
    assert statement["_type"] == STATEMENT_TYPE and statement["predicateType"] == PREDICATE_TYPE
    subjects = {subject["name"]: subject["digest"]["sha256"] for subject in statement["subject"]}
    assert sorted(subjects) == sorted([WHEEL, SDIST, SBOM])
    for name, digest in subjects.items():
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest
    dependencies = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    uris = [item["uri"] for item in dependencies]
    assert any(uri.startswith("pkg:pypi/lark@") for uri in uris)
    commits = [item["digest"]["gitCommit"] for item in dependencies if "gitCommit" in item.get("digest", {})]
    if (ROOT / ".git").exists():
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        assert commits == [head]


def test_provenance_fails_with_another_key(dist: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    subprocess.run([sys.executable, "-m", "aicrc", "keygen", "-o", str(other)], capture_output=True, check=True)
    envelope = Envelope.from_dict(json.loads((dist / PROVENANCE).read_text()))
    with pytest.raises(VerificationError):
        envelope.verify([load_public_key(other.with_name("other.key.pub"))], 1)


def test_evidence_is_deterministic_for_the_same_dists(dist: Path, key: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    done = release("--key", str(key), "-o", str(again), "--prebuilt", str(dist))
    assert done.returncode == 0, done.stdout + done.stderr
    for name in (WHEEL, SDIST, SBOM, PROVENANCE, "SHA256SUMS"):
        assert (again / name).read_bytes() == (dist / name).read_bytes(), name


def test_without_a_key_there_is_no_provenance(dist: Path, tmp_path: Path) -> None:
    done = release("-o", str(tmp_path / "unsigned"), "--prebuilt", str(dist))
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(path.name for path in (tmp_path / "unsigned").iterdir()) == sorted([WHEEL, SDIST, SBOM, "SHA256SUMS"])


def test_prebuilt_folder_must_hold_one_wheel_and_one_sdist(tmp_path: Path) -> None:
    done = release("-o", str(tmp_path / "out"), "--prebuilt", str(tmp_path))
    assert done.returncode != 0
    assert "one aicrc wheel and one sdist" in done.stderr
