"""Verifying a bundle on disk, as the trust level it reaches.

Levels build on each other: a bundle reaches the highest level whose check passes along with the
checks of every level below it.

    none        nothing verified
    checksums   every file matches checksums.txt; none is missing, none was added
    signature   provenance.intoto.jsonl is a DSSE envelope whose signature verifies with the key given
    provenance  its in-toto statement names every file of the bundle with the sha256 it has, and no other

The last two are checked only with a public key (`aicrc verify DIR --key KEYFILE.pub`); without
one a bundle reaches `checksums` at most. checksums.txt does not list the provenance file: the
provenance covers checksums.txt, so it is written after it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aicrc import diagnostics as diag
from aicrc.bundle import checksums, provenance
from aicrc.compiler.load.files import read_source
from aicrc.records import Record
from aicrc.source import SourceFile, Span

if TYPE_CHECKING:
    from securesystemslib.signer import Key


class TrustLevel(IntEnum):
    NONE = 0
    CHECKSUMS = 1
    SIGNATURE = 2
    PROVENANCE = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class LevelResult(Record):
    level: TrustLevel
    passed: bool
    summary: str  # one line: what was checked, and what failed
    problems: tuple[diag.Diagnostic, ...] = ()


class Report(Record):
    bundle: str  # the folder, as given
    levels: tuple[LevelResult, ...]  # lowest level first
    sources: Mapping[str, SourceFile]  # the files problems point into

    @property
    def problems(self) -> list[diag.Diagnostic]:
        return [problem for result in self.levels for problem in result.problems]

    @property
    def reached(self) -> TrustLevel:
        reached = TrustLevel.NONE
        for result in self.levels:
            if not result.passed:
                break
            reached = result.level
        return reached

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle,
            "trustLevel": self.reached.label,
            "levels": [{"level": r.level.label, "passed": r.passed, "summary": r.summary} for r in self.levels],
            "problems": [problem.to_dict() for problem in self.problems],
        }

    def render_text(self) -> str:
        lines = [f"bundle: {self.bundle}", f"trust level: {self.reached.label}"]
        lines += [f"  {r.level.label:<10} {'passed' if r.passed else 'FAILED'}: {r.summary}" for r in self.levels]
        return "\n".join(lines) + "\n"


def verify(directory: Path, key: Key | None = None, *, display: str | None = None) -> Report:
    """The report for the bundle in `directory`; E0805 when it is not a bundle at all. With a public
    key, the signature and provenance levels are checked too. `display` names the bundle in the
    report when the folder is not what the user gave (a pulled copy)."""
    display = directory.as_posix() if display is None else display
    if not directory.is_dir():
        raise diag.error("E0805", f"not a bundle: {display} is not a folder", help="give the folder `aicrc bundle -o DIR` wrote")
    if not (directory / checksums.NAME).is_file():
        raise diag.error(
            "E0805",
            f"not a bundle: {display} has no {checksums.NAME}",
            help="`aicrc bundle` writes one into every bundle; a folder without it cannot be verified",
        )
    sources: dict[str, SourceFile] = {}
    try:
        levels = [_check_checksums(directory, display, sources)]
        if key is not None:
            signed, statement = _check_signature(directory, display, key)
            levels += [signed, _check_provenance(directory, display, statement)]
    except OSError as failure:  # a folder or file of the bundle that cannot be read
        raise diag.error("E0104", f"cannot read {failure.filename or display}: {failure.strerror}") from None
    return Report(display, tuple(levels), sources)


def _check_checksums(directory: Path, display: str, sources: dict[str, SourceFile]) -> LevelResult:
    listing = read_source(directory / checksums.NAME, f"{display}/{checksums.NAME}")
    sources[listing.display] = listing
    problems: list[diag.Diagnostic] = []
    listed: dict[str, tuple[str, Span]] = {}
    for number, line in enumerate(listing.text.split("\n"), start=1):
        if not line:
            continue
        where = Span(listing.display, number, 1, number, len(line) + 1)
        match = checksums.LINE.fullmatch(line)
        if match is None:
            problems.append(diag.Diagnostic("E0806", f"line {number} of {checksums.NAME} is not `SHA256  PATH`", where, help=_REWRITE))
        elif not _inside(match["path"]):
            problems.append(diag.Diagnostic("E0806", f"{checksums.NAME} names {match['path']!r}, outside the bundle", where, help=_REWRITE))
        elif match["path"] in listed:
            first = diag.Label(listed[match["path"]][1], "first listed here")
            problems.append(diag.Diagnostic("E0806", f"{checksums.NAME} lists {match['path']} twice", where, (first,), help=_REWRITE))
        else:
            listed[match["path"]] = (match["digest"], where)
    on_disk = _files(directory)
    counts = {"changed": 0, "missing": 0, "not listed": 0}
    for path, (digest, where) in listed.items():
        if path not in on_disk:
            counts["missing"] += 1
            problems.append(diag.Diagnostic("E0808", f"{path} is missing", where, help=_REWRITE))
            continue
        found = _sha256(directory / path) if on_disk[path] else "not a plain file (a symbolic link or a device)"
        if found != digest:
            counts["changed"] += 1
            notes = (f"listed: {digest}", f"found:  {found}")
            problems.append(diag.Diagnostic("E0807", f"{path} does not match {checksums.NAME}", where, notes=notes, help=_REWRITE))
    for path in sorted(set(on_disk) - set(listed) - {checksums.NAME, provenance.NAME}):
        counts["not listed"] += 1
        problems.append(
            diag.Diagnostic(
                "E0809", f"{display}/{path} is in the bundle but not in {checksums.NAME}", help="remove it, or write the bundle again"
            )
        )
    if not problems:
        return LevelResult(TrustLevel.CHECKSUMS, True, f"{len(listed)} files match {checksums.NAME}")
    summary = ", ".join(f"{count} {what}" for what, count in counts.items())
    malformed = len(problems) - sum(counts.values())
    return LevelResult(
        TrustLevel.CHECKSUMS, False, summary + (f", {malformed} bad lines in {checksums.NAME}" if malformed else ""), tuple(problems)
    )


def _check_signature(directory: Path, display: str, key: Key) -> tuple[LevelResult, Mapping[str, Any] | None]:
    """The signature level, and the statement the envelope carries once its signature verifies."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError

    where = f"{display}/{provenance.NAME}"
    path = directory / provenance.NAME
    if not path.is_file():
        problem = diag.Diagnostic(
            "E0851", f"{where} is missing: the bundle is not signed", help="write the bundle with `aicrc bundle ... --sign KEYFILE`"
        )
        return LevelResult(TrustLevel.SIGNATURE, False, f"no {provenance.NAME}", (problem,)), None
    try:
        envelope = Envelope.from_dict(json.loads(path.read_bytes()))
        statement = json.loads(envelope.payload)
        if envelope.payload_type != provenance.PAYLOAD_TYPE or not isinstance(statement, dict):
            raise ValueError(f"payload type {envelope.payload_type!r}, expected {provenance.PAYLOAD_TYPE}")
    except (ValueError, KeyError, TypeError, AttributeError) as failure:  # JSON, base64 and field errors alike
        problem = diag.Diagnostic("E0851", f"{where} is not a DSSE envelope of an in-toto statement: {failure}", help=_REWRITE)
        return LevelResult(TrustLevel.SIGNATURE, False, f"{provenance.NAME} is malformed", (problem,)), None
    try:
        envelope.verify([key], 1)
    except VerificationError:
        problem = diag.Diagnostic(
            "E0852",
            f"the signature of {where} does not verify with the key given",
            notes=(f"key id: {key.keyid}", f"signed by: {', '.join(sorted(envelope.signatures)) or 'nobody'}"),
            help="give the public key of the key the bundle was signed with; a bundle edited after signing must be signed again",
        )
        return LevelResult(TrustLevel.SIGNATURE, False, "the signature does not verify with the key", (problem,)), None
    return LevelResult(TrustLevel.SIGNATURE, True, f"{provenance.NAME} signed by key {key.keyid[:16]}"), statement


def _check_provenance(directory: Path, display: str, statement: Mapping[str, Any] | None) -> LevelResult:
    if statement is None:
        return LevelResult(TrustLevel.PROVENANCE, False, "not checked: no verified statement")
    where = f"{display}/{provenance.NAME}"
    subjects: dict[str, str] = {}
    problems: list[diag.Diagnostic] = []
    given = statement.get("subject")
    if statement.get("_type") != provenance.STATEMENT_TYPE or statement.get("predicateType") != provenance.PREDICATE_TYPE:
        problems.append(diag.Diagnostic("E0853", f"{where} is not an in-toto v1 statement of SLSA provenance v1", help=_REWRITE))
    for subject in given if isinstance(given, list) else []:
        name, digest = (subject.get("name"), subject.get("digest", {}).get("sha256")) if isinstance(subject, dict) else (None, None)
        if isinstance(name, str) and isinstance(digest, str):
            subjects[name] = digest
    on_disk = {path for path, plain in _files(directory).items() if plain} - {provenance.NAME}
    for path in sorted(on_disk):
        if path not in subjects:
            problems.append(diag.Diagnostic("E0853", f"{display}/{path} is not a subject of {where}", help=_REWRITE))
        elif (found := _sha256(directory / path)) != subjects[path]:
            notes = (f"attested: {subjects[path]}", f"found:    {found}")
            problems.append(diag.Diagnostic("E0853", f"{display}/{path} does not match {where}", notes=notes, help=_REWRITE))
    for path in sorted(set(subjects) - on_disk):
        problems.append(diag.Diagnostic("E0853", f"{where} attests {path}, which is not in the bundle", help=_REWRITE))
    if problems:
        return LevelResult(TrustLevel.PROVENANCE, False, f"{len(problems)} files differ from the provenance", tuple(problems))
    return LevelResult(TrustLevel.PROVENANCE, True, f"{len(subjects)} files attested with their sha256")


_REWRITE = "the bundle changed after it was written: write it again with `aicrc bundle` (or restore the file)"


def _inside(path: str) -> bool:
    return not path.startswith("/") and all(part not in ("", ".", "..") for part in path.split("/"))


def _files(directory: Path) -> dict[str, bool]:
    """Every entry of the bundle that is not a folder, by relative path: True for a plain file.
    Symbolic links are not followed, so a link cannot make verify read outside the bundle."""
    found: dict[str, bool] = {}
    pending = [(directory, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), relative + "/"))
                else:
                    found[relative] = entry.is_file(follow_symlinks=False)
    return found


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
