"""POST /v1/bundle: a RecipeResult in, the bundle's files out as a zip, as the reference answers.

aicrc bundles what it compiles, not a RecipeResult's references to the reference's data folder:
the RecipeResult's `criteria` are compiled with this server's library (the `set` parameters as
`--set`), and its componentRefs must name exactly the components that compile installs, so a
result from another library, or with components left out, is refused with what differs rather
than bundled differently from what it says. Values a componentRef's `overrides` change are
compiled in as `--set` too, so an edited RecipeResult is bundled as edited, with a digest and
provenance that say so; the RecipeResult GET /v1/recipe answers comes back unchanged.

The query parameters are the reference's, and `revision` (the branch, tag or commit argocd and
flux read). Unlike the reference, argocd and flux need `repo` (aicrc writes no placeholder a user
must find and replace), and `workload-gate` and `workload-selector` are refused: aicrc's bundles do
not set them, and an option that is silently dropped is worse than one that is refused. `bundlers`
is accepted and ignored, as the reference's server ignores it.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from aicrc import diagnostics as diag
from aicrc.api import Compilation, Library, Override, parse_override
from aicrc.bundle.build import build_bundle
from aicrc.bundle.deployers import NAMES as DEPLOYERS
from aicrc.bundle.deployers.base import DEFAULT_REVISION, Repository
from aicrc.bundle.files import EXECUTABLE, Bundle
from aicrc.bundle.placement import Placement, parse_selectors, parse_tolerations
from aicrc.bundle.recipe import from_document
from aicrc.compiler.evaluate.values import leaf_paths, same
from aicrc.records import Record
from aicrc.server.envelope import ApiError, from_diagnostics
from aicrc.server.reference import Asked, Vocabulary, check_allowed, from_body
from aicrc.server.service import Reply

SELECTORS = ("system-node-selector", "accelerated-node-selector")
TOLERATIONS = ("system-node-toleration", "accelerated-node-toleration")
REPEATED = ("set", *SELECTORS, *TOLERATIONS)
SINGLE = ("deployer", "repo", "revision", "nodes", "bundlers")
REFUSED = ("workload-gate", "workload-selector")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: the same bundle is the same bytes


class Options(Record):
    deployer: str
    repository: Repository | None
    place: Placement
    sets: tuple[str, ...]


def options(params: Sequence[tuple[str, str]]) -> Options:
    """The query parameters of POST /v1/bundle, checked before any work."""
    given: dict[str, list[str]] = {}
    for name, value in params:
        if name in REFUSED:
            raise _invalid(f"Invalid {name} parameter", f"{name}: aicrc's bundles do not gate or select workloads for skyhook")
        if name not in REPEATED and name not in SINGLE:
            raise _invalid("Invalid query parameters", f"unknown query parameter {name!r}", parameters=sorted((*REPEATED, *SINGLE)))
        if name in SINGLE and name in given:
            raise _invalid("Invalid query parameters", f"query parameter {name!r} is given twice")
        given.setdefault(name, []).append(value)
    deployer = (given.get("deployer") or ["helm"])[0]
    if deployer not in DEPLOYERS:
        raise _invalid("Invalid deployer parameter", f"unsupported deployer {deployer!r}", valid=list(DEPLOYERS))
    nodes_text = (given.get("nodes") or ["0"])[0]
    if not nodes_text.strip().isdigit():
        raise _invalid("Invalid query parameters", "nodes must be a non-negative integer")
    try:
        selectors = [parse_selectors(name, given.get(name, [])) for name in SELECTORS]
        tolerations = [parse_tolerations(name, given.get(name, [])) for name in TOLERATIONS]
    except ValueError as problem:
        raise _invalid("Invalid query parameters", str(problem)) from None
    place = Placement(selectors[0], tolerations[0], selectors[1], tolerations[1], int(nodes_text))
    repo = given.get("repo", [""])[0]
    revision = given.get("revision", [DEFAULT_REVISION])[0]
    return Options(deployer, Repository(repo, revision) if repo else None, place, tuple(given.get("set", [])))


def bundle(library: Library, vocabulary: Vocabulary, allowed: Mapping[str, frozenset[str]], data: Any, chosen: Options) -> Reply:
    started = time.perf_counter()
    if not isinstance(data, dict):
        raise _invalid("Invalid request body", "expected a RecipeResult (a JSON object)")
    refs = data.get("componentRefs")
    if not isinstance(refs, list) or not refs:
        raise ApiError("INVALID_REQUEST", "Recipe must contain at least one component reference")
    if not all(isinstance(ref, dict) and isinstance(ref.get("name"), str) for ref in refs):
        raise _invalid("Invalid request body", "each componentRef is an object with a name")
    asked = from_body(data.get("criteria"), vocabulary, "criteria")
    check_allowed(asked, allowed, vocabulary)
    sets = _parsed(chosen.sets)
    compilation = _compile(library, asked, sets)
    _check_components(refs, compilation)
    edits = _edits(refs, compilation)
    if edits:
        compilation = _compile(library, asked, [*sets, *edits])
    try:
        files = build_bundle(from_document(compilation.document), [chosen.deployer], chosen.repository, place=chosen.place)
    except diag.AicrcError as failure:
        raise from_diagnostics(failure, "Failed to generate bundle") from None
    payload, size = _zip(files)
    headers = (
        ("Content-Disposition", 'attachment; filename="bundles.zip"'),
        ("X-Bundle-Files", str(len(files))),
        ("X-Bundle-Size", str(size)),
        ("X-Bundle-Duration", f"{time.perf_counter() - started:.3f}s"),
    )
    return Reply(200, payload, "application/zip", headers)


def _parsed(sets: Sequence[str]) -> list[Override]:
    try:
        return [parse_override(text) for text in sets]
    except diag.AicrcError as failure:
        raise from_diagnostics(failure, "Invalid set parameter") from None


def _compile(library: Library, asked: Asked, overrides: Sequence[Override]) -> Compilation:
    try:
        return library.compile(asked.raw(), overrides=overrides)
    except diag.AicrcError as failure:
        raise from_diagnostics(failure, "Invalid recipe criteria") from None


def _check_components(refs: list[dict[str, Any]], compilation: Compilation) -> None:
    theirs = [ref["name"] for ref in refs]
    ours = [component["name"] for component in compilation.document["components"]]
    unknown, missing = sorted(set(theirs) - set(ours)), sorted(set(ours) - set(theirs))
    if unknown or missing:
        raise ApiError(
            "INVALID_REQUEST",
            "The RecipeResult's components are not those its criteria compile to",
            {
                "error": "compile its criteria with GET or POST /v1/recipe, and bundle that",
                "unknown": unknown,
                "missing": missing,
            },
        )


def _edits(refs: list[dict[str, Any]], compilation: Compilation) -> list[Override]:
    """Each value of a componentRef's `overrides` the compiled recipe does not already hold."""
    values = {component["name"]: component["values"] for component in compilation.document["components"]}
    edits = []
    for ref in refs:
        overrides = ref.get("overrides")
        if overrides is None:
            continue
        if not isinstance(overrides, dict):
            raise _invalid("Invalid request body", f"componentRefs {ref['name']}: overrides is a mapping of Helm values")
        compiled = leaf_paths(values[ref["name"]])
        for path, value in leaf_paths(overrides).items():
            if path not in compiled or not same(compiled[path], value):
                edits.append(Override(ref["name"], path, value))
    return edits


def _zip(files: Bundle) -> tuple[bytes, int]:
    """The bundle as a zip, and the size of its files unpacked."""
    buffer = io.BytesIO()
    size = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, file in files.items():
            entry = zipfile.ZipInfo(path, ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = ((0o100755 if file.mode == EXECUTABLE else 0o100644) & 0xFFFF) << 16
            archive.writestr(entry, file.content)
            size += len(file.content)
    return buffer.getvalue(), size


def _invalid(message: str, error: str, **details: Any) -> ApiError:
    return ApiError("INVALID_REQUEST", message, {"error": error, **details})
