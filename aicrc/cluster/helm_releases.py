"""Helm releases as Helm 3 stores them: one Secret per revision of each release, of type
`helm.sh/release.v1`, named `sh.helm.release.v1.NAME.vREVISION` and labelled `owner: helm`,
`name`, `status` and `version` (the revision). Its `data.release` is the release as JSON, gzipped,
base64-encoded by Helm, and base64-encoded again by Kubernetes as every Secret value is:

    {"name": "gpu-operator", "namespace": "gpu-operator", "version": 3,
     "info": {"status": "deployed", ...},
     "chart": {"metadata": {"name": "gpu-operator", "version": "v25.10.1", "appVersion": "v25.10.1", ...}, ...},
     "config": {...the values the user supplied...}, "manifest": "---\\n...", ...}

A release Secret may come from anyone who can write Secrets, so decoding is hardened: data that is
not base64, not gzip, gzip that inflates past MAX_RELEASE_BYTES, not JSON or without the fields a
release has each become that release's `problem`, one line, and never stop the other releases.

A snapshot records releases as readings of `K8s.helm`, one group per release, keyed
`NAMESPACE/NAME.FIELD` (a namespace holds no `/` or `.`; the field is after the last dot, so release
names may hold dots):

    gpu-operator/gpu-operator.chart: gpu-operator        .version: v25.10.1   .app-version: v25.10.1
    gpu-operator/gpu-operator.status: deployed           .revision: 3
    gpu-operator/gpu-operator.values-digest: sha256:...  (of the user-supplied values, never the values:
                                                          they may hold credentials, and a snapshot is shared)
    gpu-operator/gpu-operator.problem: ...               (only for a release that could not be read)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from aicrc.cluster.snapshot import reading_text
from aicrc.datadepth import depth
from aicrc.records import Record

if TYPE_CHECKING:
    from aicrc.cluster.kube import Kube
    from aicrc.cluster.snapshot import Reading, Readings

HELM_SUBTYPE: Final = "helm"  # the K8s measurement's subtype that records releases
RELEASE_SECRET_TYPE: Final = "helm.sh/release.v1"
OWNER_SELECTOR: Final = "owner=helm"
DEPLOYED: Final = "deployed"
# A Secret holds at most 1 MiB; real releases (chart templates and files included) inflate to a few
# MiB. Past this, the gzip stream is a bomb, not a release.
MAX_RELEASE_BYTES: Final = 32 * 1024 * 1024
MAX_VALUES_DEPTH: Final = 64  # as deep as values nest in a recipe (the language's limit)
_GZIP_MAGIC: Final = b"\x1f\x8b\x08"
_SECRET_NAME = re.compile(r"sh\.helm\.release\.v1\.(?P<name>.+)\.v(?P<revision>[0-9]+)")
# The readings of one release in a snapshot, in the order they are written.
READING_FIELDS: Final = ("chart", "version", "app-version", "status", "revision", "values-digest", "problem")


class Release(Record):
    """One release at one revision; `values` are the user-supplied values (Helm's `config`), not
    the chart's defaults. A release that could not be read says why in `problem`, and then knows
    only what its Secret's labels say: name, namespace, status and revision."""

    name: str
    namespace: str
    chart: str
    version: str  # the chart's version
    app_version: str
    status: str  # deployed, failed, superseded, pending-install, pending-upgrade, uninstalled, ...
    revision: int
    values: dict[str, Any]
    problem: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class _UnreadableError(Exception):
    """Why a release Secret cannot be read, in one line."""


def list_releases(kube: Kube) -> list[Release]:
    """The latest deployed revision of every release, in every namespace, sorted by namespace and
    name; for a release with no deployed revision (a failed install, an uninstall that kept its
    history), its latest revision, whose `status` says so. Raises `KubeError` when the Secrets
    cannot be listed."""
    listing = kube.read("list Helm release Secrets", kube.core.list_secret_for_all_namespaces, label_selector=OWNER_SELECTOR)
    return releases_from_secrets(listing.get("items"))


def releases_from_secrets(items: object) -> list[Release]:
    """The release each group of Secrets stands for (see `list_releases`), from a Secret list's
    `items`; Secrets of other types, and items that are no Secret at all, are passed over."""
    chosen: dict[tuple[str, str], tuple[tuple[bool, int], Mapping[str, Any]]] = {}
    for secret in items if isinstance(items, list) else []:
        if not isinstance(secret, dict) or secret.get("type") != RELEASE_SECRET_TYPE:
            continue
        namespace, name, status, revision = _identity(secret)
        rank = (status == DEPLOYED, revision)
        if (namespace, name) not in chosen or rank > chosen[(namespace, name)][0]:
            chosen[(namespace, name)] = (rank, secret)
    return [decode_release(secret) for _, (_, secret) in sorted(chosen.items())]


def decode_release(secret: Mapping[str, Any]) -> Release:
    """One release Secret (a Kubernetes Secret object, as JSON) as a `Release`, or, when its data
    cannot be read, a `Release` saying why."""
    namespace, name, status, revision = _identity(secret)
    data = secret.get("data")
    encoded = data.get("release") if isinstance(data, dict) else None
    try:
        if not isinstance(encoded, str):
            raise _UnreadableError("the Secret has no data.release")
        document = _decode_release_data(encoded)
        return _release(document, namespace, name, status, revision)
    except _UnreadableError as problem:
        return Release(name, namespace, "", "", "", status, revision, {}, problem=f"{_secret_name(secret)}: {problem}")


def values_digest(values: Mapping[str, Any]) -> str:
    """sha256 of the values as canonical JSON (keys sorted, no spaces, integral floats as integers,
    as Go writes them): equal values have equal digests, whichever side wrote them."""
    text = json.dumps(_canonical(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"sha256:{hashlib.sha256(text.encode('utf-8')).hexdigest()}"


def to_readings(releases: Iterable[Release]) -> Readings:
    """Releases as the readings of a snapshot's `K8s.helm` subtype (see the module's docstring)."""
    readings: Readings = {}
    for release in releases:
        fields: dict[str, Reading] = {"status": release.status, "revision": release.revision}
        if release.problem:
            fields["problem"] = release.problem
        else:
            fields |= {
                "chart": release.chart,
                "version": release.version,
                "app-version": release.app_version,
                "values-digest": values_digest(release.values),
            }
        readings |= {f"{release.key}.{field}": value for field, value in fields.items()}
    return readings


class RecordedRelease(Record):
    """A release as a snapshot records it: the release (its `values` empty) and the digest of its
    values ("" when the snapshot has none)."""

    release: Release
    values_digest: str


def from_readings(readings: Mapping[str, Reading]) -> tuple[list[RecordedRelease], list[str]]:
    """The releases a `K8s.helm` subtype records, and the keys it holds that name no release field."""
    grouped: dict[tuple[str, str], dict[str, Reading]] = {}
    unknown: list[str] = []
    for key, value in readings.items():
        prefix, _, field = key.rpartition(".")
        namespace, slash, name = prefix.partition("/")
        if not (slash and namespace and name) or field not in READING_FIELDS:
            unknown.append(key)
            continue
        grouped.setdefault((namespace, name), {})[field] = value
    recorded = [_recorded(namespace, name, fields) for (namespace, name), fields in sorted(grouped.items())]
    return recorded, unknown


# ---- internals -----------------------------------------------------------------------------------


def _decode_release_data(encoded: str) -> dict[str, Any]:
    """A Secret's `data.release` as the release's JSON object: base64 (Kubernetes), base64
    (Helm), then gzip when it starts with gzip's magic bytes (Helm 3 before it compressed wrote the
    JSON as it is, and reads both)."""
    if len(encoded) > MAX_RELEASE_BYTES:
        raise _UnreadableError(f"data.release is larger than {MAX_RELEASE_BYTES // (1024 * 1024)} MiB")
    helm_text = _base64(encoded.encode("ascii", "replace"), "data.release is not base64 (as Kubernetes encodes Secret data)")
    payload = _base64(helm_text, "the release is not base64 (as Helm encodes it)")
    if payload.startswith(_GZIP_MAGIC):
        payload = _gunzip(payload)
    try:
        document = json.loads(payload)
    except RecursionError:
        raise _UnreadableError("the release JSON nests too deeply") from None
    except ValueError as failure:  # UnicodeDecodeError included
        raise _UnreadableError(f"the release is neither gzip nor JSON: {_first_line(failure)}") from None
    if not isinstance(document, dict):
        raise _UnreadableError(f"the release is a JSON {type(document).__name__}, not an object")
    return document


def _identity(secret: Mapping[str, Any]) -> tuple[str, str, str, int]:
    """Namespace, release name, status and revision from the Secret's metadata: the labels Helm
    sets, else its name (`sh.helm.release.v1.NAME.vREVISION`)."""
    metadata = secret.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    labels = metadata.get("labels")
    labels = labels if isinstance(labels, dict) else {}
    named = _SECRET_NAME.fullmatch(str(metadata.get("name", "")))
    name = labels.get("name") if isinstance(labels.get("name"), str) else None
    revision_text = labels.get("version") if isinstance(labels.get("version"), str) else None
    status = labels.get("status")
    return (
        str(metadata.get("namespace") or ""),
        name or (named["name"] if named else str(metadata.get("name") or "?")),
        status if isinstance(status, str) else "unknown",
        _integer(revision_text) or (int(named["revision"]) if named else 0),
    )


def _secret_name(secret: Mapping[str, Any]) -> str:
    metadata = secret.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f"Secret {name}" if isinstance(name, str) else "the Secret"


def _integer(text: str | None) -> int | None:
    return int(text) if text is not None and text.isascii() and text.isdigit() and len(text) < 19 else None


def _base64(data: bytes, problem: str) -> bytes:
    try:  # Go's decoder skips line breaks; Python's strict one would refuse them
        return base64.b64decode(data.replace(b"\r", b"").replace(b"\n", b""), validate=True)
    except (binascii.Error, ValueError):
        raise _UnreadableError(problem) from None


def _gunzip(data: bytes) -> bytes:
    """gzip, inflated to at most MAX_RELEASE_BYTES (a gzip bomb stops there), every member of it."""
    out = bytearray()
    while data:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, MAX_RELEASE_BYTES + 1 - len(out))
        except zlib.error as failure:
            raise _UnreadableError(f"the release is not valid gzip: {failure}") from None
        if len(out) > MAX_RELEASE_BYTES:
            raise _UnreadableError(f"the release inflates past {MAX_RELEASE_BYTES // (1024 * 1024)} MiB: not a release but a gzip bomb")
        if not inflater.eof:
            raise _UnreadableError("the release's gzip stream is cut short")
        data = inflater.unused_data
    return bytes(out)


def _release(document: dict[str, Any], namespace: str, name: str, status: str, revision: int) -> Release:
    """The fields aicrc reads from a release's JSON; the Secret's labels fill in identity fields
    the JSON lacks."""
    chart = _mapping(document, "chart")
    metadata = _mapping(chart, "metadata", "chart.")
    info = document.get("info")
    config = document.get("config")  # Helm omits it when no values were supplied
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise _UnreadableError(f"the release's config (its values) is a JSON {type(config).__name__}, not an object")
    if depth(config) > MAX_VALUES_DEPTH:
        raise _UnreadableError(f"the release's values nest more than {MAX_VALUES_DEPTH} levels")
    found_status = info.get("status") if isinstance(info, dict) else None
    found_revision = document.get("version")
    return Release(
        name=_text(document, "name", required=False) or name,
        namespace=_text(document, "namespace", required=False) or namespace,
        chart=_text(metadata, "name", "chart.metadata."),
        version=_text(metadata, "version", "chart.metadata."),
        app_version=_text(metadata, "appVersion", "chart.metadata.", required=False),
        status=found_status if isinstance(found_status, str) and found_status else status,
        revision=found_revision if isinstance(found_revision, int) and not isinstance(found_revision, bool) else revision,
        values=config,
    )


def _mapping(document: Mapping[str, Any], key: str, prefix: str = "") -> Mapping[str, Any]:
    value = document.get(key)
    if not isinstance(value, dict):
        raise _UnreadableError(f"the release has no {prefix}{key}" if value is None else f"the release's {prefix}{key} is not an object")
    return value


def _text(document: Mapping[str, Any], key: str, prefix: str = "", *, required: bool = True) -> str:
    value = document.get(key)
    if isinstance(value, str) and value:
        return value
    if value is not None and value != "":
        raise _UnreadableError(f"the release's {prefix}{key} is a JSON {type(value).__name__}, not a string")
    if required:
        raise _UnreadableError(f"the release has no {prefix}{key}")
    return ""


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def _recorded(namespace: str, name: str, fields: Mapping[str, Reading]) -> RecordedRelease:
    def text(field: str) -> str:
        value = fields.get(field)
        return "" if value is None else reading_text(value)

    revision = fields.get("revision")
    problem = text("problem")
    if not problem and not text("chart"):
        problem = "the snapshot records no chart for it"
    release = Release(
        name,
        namespace,
        text("chart"),
        text("version"),
        text("app-version"),
        text("status") or "unknown",
        revision if isinstance(revision, int) and not isinstance(revision, bool) else 0,
        {},
        problem=problem,
    )
    return RecordedRelease(release, text("values-digest"))


def _first_line(failure: BaseException) -> str:
    text = str(failure).strip()
    return text.splitlines()[0][:200] if text else type(failure).__name__
