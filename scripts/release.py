#!/usr/bin/env python3
"""Build an aicrc release with the same evidence as an aicrc bundle.

    python scripts/release.py -o dist/ [--key KEYFILE] [--prebuilt DIR]

Writes into the output folder (created if missing):

- aicrc-VERSION-py3-none-any.whl and aicrc-VERSION.tar.gz, built with `python -m build` (pypa/build,
  in its isolated build environment) from the source tree this script lives in;
- aicrc-VERSION.cdx.json: a CycloneDX 1.6 SBOM of the runtime dependency closure of the built wheel
  (its Requires-Dist, then what importlib.metadata says each installed dependency requires, recursively,
  extras followed, environment markers evaluated for this interpreter), each package with its version and `pkg:pypi/` purl;
- aicrc-VERSION.intoto.jsonl (with --key): a DSSE envelope signed with KEYFILE (`aicrc keygen`) over
  an in-toto Statement v1 whose subjects are the wheel, the sdist and the SBOM with their sha256 and
  whose predicate is SLSA Provenance v1 (resolvedDependencies: the source tree's git commit, when
  there is one, and the dependency closure);
- SHA256SUMS: `sha256sum` lines for every file above.

--prebuilt DIR takes the wheel and sdist from DIR instead of building them (CI builds them in an
earlier step; tests use it to check the evidence on a wheel built once).

Deterministic where the tools allow: SOURCE_DATE_EPOCH is the last commit's time (unless set), the
build honours it, the SBOM's timestamp is that time and its serial number a UUID5 of its content,
and an Ed25519 signature is deterministic.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import Message
from importlib import metadata
from pathlib import Path
from typing import Any, cast

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "aicrc"
CHECKSUMS = "SHA256SUMS"
BUILD_TYPE = "https://aicrc.dev/buildtypes/release/v1"
BUILDER_ID = "https://aicrc.dev/builder/scripts/release.py"


class Package:
    """One installed distribution of the closure: its canonical name, version and direct requirements."""

    def __init__(self, name: str, version: str, requires: Sequence[str]) -> None:
        self.name = name
        self.version = version
        self.requires = tuple(requires)

    @property
    def purl(self) -> str:
        from packageurl import PackageURL

        return str(PackageURL("pypi", None, self.name, self.version))


def canonical(name: str) -> str:
    """PEP 503 normalization, which is also the purl spec's for the pypi type (lowercase, dashes)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_metadata(wheel: Path) -> Message:
    """The core metadata (METADATA) of a built wheel."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(item for item in archive.namelist() if item.count("/") == 1 and item.endswith(".dist-info/METADATA"))
        return email.parser.BytesParser().parsebytes(archive.read(name))


def closure(root: Message) -> dict[str, Package]:
    """The runtime dependency closure of the project whose core metadata is `root` (the built wheel's):
    its requirements, then theirs as importlib.metadata finds them installed here, recursively, extras
    followed and environment markers evaluated for this interpreter. By canonical name, the project included."""
    found: dict[str, Package] = {}
    extras_seen: dict[str, set[str]] = {}
    environment = cast(dict[str, str], dict(default_environment()))

    def wanted(lines: Sequence[str], extras: set[str]) -> list[Requirement]:
        chosen = []
        for line in lines:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate(environment | {"extra": extra}) for extra in {"", *extras}):
                chosen.append(requirement)
        return chosen

    project = canonical(root["Name"])
    top = wanted(root.get_all("Requires-Dist") or [], set())
    found[project] = Package(project, root["Version"], sorted({canonical(item.name) for item in top}))
    pending = [(item.name, frozenset(item.extras)) for item in top]
    while pending:
        name, extras = pending.pop()
        key = canonical(name)
        if key in found and extras <= extras_seen[key]:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing = f"release: {name}, a dependency of {project}, is not installed"
            raise SystemExit(f"{missing}: install the project first (pip install .)") from None
        extras_seen.setdefault(key, set()).update(extras)
        requirements = wanted(distribution.requires or [], extras_seen[key])
        direct = set(found[key].requires) if key in found else set()
        direct |= {canonical(item.name) for item in requirements}
        pending += [(item.name, frozenset(item.extras)) for item in requirements]
        found[key] = Package(key, distribution.version, sorted(direct))
    return dict(sorted(found.items()))


def sbom(packages: Mapping[str, Package], timestamp: datetime, project: str = PROJECT) -> str:
    """A CycloneDX 1.6 JSON SBOM: the project as the metadata component, one library per dependency."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    from aicrc.bundle.sbom import SERIAL_NAMESPACE

    root_package = packages[canonical(project)]
    identity = "\n".join(f"{package.purl} {' '.join(package.requires)}" for package in packages.values())
    bom = Bom(serial_number=uuid.uuid5(SERIAL_NAMESPACE, f"release\n{identity}"))
    bom.metadata.timestamp = timestamp

    def component(package: Package, kind: ComponentType) -> Component:
        return Component(
            type=kind, name=package.name, version=package.version, purl=PackageURL.from_string(package.purl), bom_ref=package.purl
        )

    components = {name: component(package, ComponentType.LIBRARY) for name, package in packages.items() if package is not root_package}
    root = component(root_package, ComponentType.APPLICATION)
    bom.metadata.component = root
    tool = Component(type=ComponentType.APPLICATION, name="aicrc scripts/release.py", version=root_package.version)
    bom.metadata.tools.components.add(tool)
    for part in components.values():
        bom.components.add(part)
    everything = components | {root_package.name: root}
    for name, package in packages.items():
        bom.register_dependency(everything[name], [everything[dependency] for dependency in package.requires])
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def git(*arguments: str) -> str | None:
    """A git command's output in the source tree, or None when there is no git or no repository."""
    try:
        done = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def source_date_epoch() -> int:
    """SOURCE_DATE_EPOCH when set, else the last commit's time, else now."""
    if value := os.environ.get("SOURCE_DATE_EPOCH"):
        return int(value)
    committed = git("log", "-1", "--format=%ct")
    return int(committed) if committed else int(datetime.now(UTC).timestamp())


def build(output: Path, epoch: int) -> list[Path]:
    """The wheel and the sdist, built by pypa/build into `output`."""
    environment = os.environ | {"SOURCE_DATE_EPOCH": str(epoch)}
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(output), str(ROOT)], check=True, env=environment)
    return dists(output)


def dists(folder: Path) -> list[Path]:
    wheels = sorted(folder.glob(f"{PROJECT}-*.whl"))
    sdists = sorted(folder.glob(f"{PROJECT}-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SystemExit(f"release: {folder} must hold one {PROJECT} wheel and one sdist, it holds {len(wheels)} and {len(sdists)}")
    return [wheels[0], sdists[0]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def statement(subjects: Sequence[Path], packages: Mapping[str, Package], epoch: int) -> dict[str, Any]:
    """An in-toto Statement v1 with an SLSA Provenance v1 predicate over the release's files."""
    from aicrc.bundle.provenance import PREDICATE_TYPE, STATEMENT_TYPE

    commit = git("rev-parse", "HEAD")
    dependencies: list[dict[str, Any]] = []
    if commit:
        origin = git("remote", "get-url", "origin")
        dependencies.append({"uri": f"git+{origin}" if origin else "git+file:source", "digest": {"gitCommit": commit}})
    dependencies += [{"uri": package.purl, "name": package.name} for package in packages.values() if package.name != PROJECT]
    internal: dict[str, Any] = {"SOURCE_DATE_EPOCH": epoch}
    if commit:
        internal["sourceTreeClean"] = git("status", "--porcelain") == ""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": path.name, "digest": {"sha256": sha256(path)}} for path in sorted(subjects, key=lambda p: p.name)],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"project": PROJECT, "version": packages[PROJECT].version},
                "internalParameters": internal,
                "resolvedDependencies": dependencies,
            },
            "runDetails": {"builder": {"id": BUILDER_ID, "version": {"python": sys.version.split()[0]}}},
        },
    }


def sign(document: Mapping[str, Any], keyfile: Path) -> str:
    """The statement as a one-line DSSE envelope, signed as `aicrc bundle --sign` signs provenance."""
    from aicrc.bundle.provenance import sign_statement
    from aicrc.bundle.signing import load_signer

    return sign_statement(document, load_signer(keyfile))


def release(output: Path, key: Path | None = None, prebuilt: Path | None = None) -> list[Path]:
    """Write the release into `output`; returns the files written, SHA256SUMS last."""
    output.mkdir(parents=True, exist_ok=True)
    epoch = source_date_epoch()
    if prebuilt is None:
        with tempfile.TemporaryDirectory(prefix="aicrc-build-") as scratch:
            built = build(Path(scratch), epoch)
            files = [Path(shutil.copy2(path, output / path.name)) for path in built]
    else:
        here = output.resolve()
        files = [path if path.parent.resolve() == here else Path(shutil.copy2(path, output / path.name)) for path in dists(prebuilt)]
    packages = closure(wheel_metadata(files[0]))
    version = packages[PROJECT].version
    bom = output / f"{PROJECT}-{version}.cdx.json"
    bom.write_text(sbom(packages, datetime.fromtimestamp(epoch, UTC)))
    files.append(bom)
    if key is not None:
        provenance = output / f"{PROJECT}-{version}.intoto.jsonl"
        provenance.write_text(sign(statement(files, packages, epoch), key))
        files.append(provenance)
    checksums = output / CHECKSUMS
    checksums.write_text("".join(f"{sha256(path)}  {path.name}\n" for path in sorted(files, key=lambda p: p.name)))
    return [*files, checksums]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/release.py", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder to write the release into")
    parser.add_argument("--key", type=Path, help="private key from `aicrc keygen` to sign the provenance with")
    parser.add_argument("--prebuilt", type=Path, help="folder with the wheel and sdist already built")
    options = parser.parse_args(argv)
    for path in release(options.output, options.key, options.prebuilt):
        print(path)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
