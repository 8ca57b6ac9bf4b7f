"""Pushing a bundle to an OCI registry as an artifact, and pulling it back.

The artifact is an OCI 1.1 image manifest with artifactType application/vnd.aicrc.bundle.v1, the
empty config, and one layer: the bundle as a reproducible tar.gz (aicrc.bundle.tarball). The same
bundle pushed twice gives the same manifest digest: the annotations come from the recipe (its
name, digest and deployers) and the tag, never from the clock.

The bundle's SBOM and provenance, when it has them, are also pushed as OCI 1.1 referrers of its
manifest (`subject`), listed in the index of the referrers tag schema (`sha256-HEX`).

The client is the distribution API's few calls over the standard library's urllib: a blob is
checked (HEAD), uploaded in one POST and PUT when missing, and the manifest is put by tag last, so
a push that fails or is interrupted part way leaves no tag (only unreferenced blobs, which the
registry's garbage collection removes). A registry on a loopback address is spoken to over plain
HTTP, any other over HTTPS; no proxy is used for loopback. Registries that ask for credentials are
not supported yet.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from email.message import Message
from typing import Any

from aicrc import diagnostics as diag
from aicrc.records import Record

SCHEME = "oci://"
ARTIFACT_TYPE = "application/vnd.aicrc.bundle.v1"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY = b"{}"
# Seconds to wait for each answer; a registry slower than this is reported, not waited on forever.
TIMEOUT_VARIABLE = "AICRC_REGISTRY_TIMEOUT"
DEFAULT_TIMEOUT = 30.0

# HOST[:PORT]/REPO:TAG with the distribution spec's grammar for repository names and tags.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"oci://(?P<host>(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{{1,5}})?)/"
    rf"(?P<repository>{_COMPONENT}(?:/{_COMPONENT})*):(?P<tag>[A-Za-z0-9_][A-Za-z0-9._-]{{0,127}})"
)


class Reference(Record):
    host: str  # HOST[:PORT]
    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{SCHEME}{self.host}/{self.repository}:{self.tag}"

    @property
    def loopback(self) -> bool:
        name = self.host.rsplit(":", 1)[0] if not self.host.endswith("]") and ":" in self.host else self.host
        name = name.strip("[]")
        if name == "localhost":
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False


def is_reference(text: str) -> bool:
    return text.startswith(SCHEME)


def parse_reference(text: str) -> Reference:
    match = _REFERENCE.fullmatch(text)
    if match is None:
        raise diag.error(
            "E0854",
            f"not an OCI reference: {text!r}",
            help="write oci://HOST[:PORT]/REPOSITORY:TAG (lowercase repository, a tag such as v1 or 2025-01)",
        )
    return Reference(match["host"], match["repository"], match["tag"])


def bundle_annotations(name: str, digest: str, deployers: Sequence[str], tag: str) -> dict[str, str]:
    return {
        "org.opencontainers.image.title": name,
        "org.opencontainers.image.version": tag,
        "org.opencontainers.image.description": f"aicrc deployment bundle of recipe {name} ({', '.join(deployers)})",
        "dev.aicrc.recipe.digest": digest,
    }


class Attachment(Record):
    """A file of the bundle also pushed as an OCI 1.1 referrer of it (the SBOM, the provenance), so
    `oras discover` and `cosign tree` find it without pulling the bundle."""

    title: str  # its file name
    media_type: str  # of the file, and the referrer's artifactType
    content: bytes


def push(reference: Reference, layer: bytes, layer_type: str, notes: Mapping[str, str], attachments: Sequence[Attachment] = ()) -> str:
    """Push the artifact: blobs, the manifest by digest, its referrers, and the tag last. Returns
    the manifest's digest."""
    registry = _Registry(reference)
    body = _manifest(registry, ARTIFACT_TYPE, layer, layer_type, "bundle.tar.gz", dict(notes))
    digest = _digest(body)
    registry.request("PUT", f"manifests/{digest}", body, {"Content-Type": MANIFEST_TYPE}, expect=(201,))
    if attachments:
        subject = {"mediaType": MANIFEST_TYPE, "digest": digest, "size": len(body)}
        referrers = []
        for item in attachments:
            referrer = _manifest(registry, item.media_type, item.content, item.media_type, item.title, {}, subject)
            referrers.append(
                {"mediaType": MANIFEST_TYPE, "digest": _digest(referrer), "size": len(referrer), "artifactType": item.media_type}
            )
            registry.request("PUT", f"manifests/{referrers[-1]['digest']}", referrer, {"Content-Type": MANIFEST_TYPE}, expect=(201,))
        registry.add_referrers(digest, referrers)
    registry.request("PUT", f"manifests/{reference.tag}", body, {"Content-Type": MANIFEST_TYPE}, expect=(201,))
    return digest


def _manifest(
    registry: _Registry,
    artifact_type: str,
    content: bytes,
    media_type: str,
    title: str,
    notes: dict[str, str],
    subject: dict[str, Any] | None = None,
) -> bytes:
    """An artifact manifest of one layer, its blobs pushed; the bytes are what its digest is of."""
    config = registry.put_blob(EMPTY) | {"mediaType": EMPTY_TYPE}
    layer = registry.put_blob(content) | {"mediaType": media_type, "annotations": {"org.opencontainers.image.title": title}}
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "artifactType": artifact_type, "config": config, "layers": [layer]}
    manifest |= {"annotations": dict(sorted(notes.items()))} if notes else {}
    manifest |= {"subject": subject} if subject else {}
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def pull(reference: Reference, layer_type: str) -> bytes:
    """The layer of the artifact at `reference`, its digest checked; E0856 when it is not an aicrc bundle."""
    registry = _Registry(reference)
    _, _, body = registry.request("GET", f"manifests/{reference.tag}", headers={"Accept": MANIFEST_TYPE}, expect=(200,))
    layers = _layers(body, reference)
    if len(layers) != 1 or layers[0].get("mediaType") != layer_type or not isinstance(layers[0].get("digest"), str):
        raise diag.error("E0856", f"{reference} is not an aicrc bundle: expected one layer of {layer_type}", help=_HELP_PULL)
    digest: str = layers[0]["digest"]
    _, _, data = registry.request("GET", f"blobs/{digest}", expect=(200,))
    if _digest(data) != digest:
        raise diag.error("E0856", f"the layer of {reference} does not match its digest {digest}", help="push the bundle again")
    return data


_HELP_PULL = "pull an artifact that `aicrc bundle -o oci://...` pushed"


def _layers(body: bytes, reference: Reference) -> list[dict[str, Any]]:
    try:
        manifest = json.loads(body)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("artifactType") != ARTIFACT_TYPE or not isinstance(manifest.get("layers"), list):
        raise diag.error("E0856", f"{reference} is not an aicrc bundle (artifactType is not {ARTIFACT_TYPE})", help=_HELP_PULL)
    return [layer for layer in manifest["layers"] if isinstance(layer, dict)]


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


class _Registry:
    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self.base = f"{'http' if reference.loopback else 'https'}://{reference.host}/v2/{reference.repository}/"
        # An empty ProxyHandler: a proxy from the environment must not intercept a loopback registry.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({})) if reference.loopback else urllib.request.build_opener()
        self.timeout = _timeout()

    def add_referrers(self, subject: str, referrers: list[dict[str, Any]]) -> None:
        """Record referrers in the OCI 1.1 fallback: an image index tagged `sha256-HEX` after the
        subject, for registries without the referrers API (distribution 2.8 among them). What the
        index lists already (a signature someone else attached) is kept."""
        tag = subject.replace(":", "-")
        status, _, body = self.request("GET", f"manifests/{tag}", headers={"Accept": INDEX_TYPE}, expect=(200, 404))
        try:
            listed = json.loads(body).get("manifests", []) if status == 200 else []
        except (ValueError, AttributeError):
            listed = []
        digests = {referrer["digest"] for referrer in referrers}
        kept = [item for item in listed if isinstance(item, dict) and item.get("digest") not in digests]
        index = {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": kept + referrers}
        data = json.dumps(index, sort_keys=True, separators=(",", ":")).encode()
        self.request("PUT", f"manifests/{tag}", data, {"Content-Type": INDEX_TYPE}, expect=(201,))

    def put_blob(self, data: bytes) -> dict[str, Any]:
        digest = _digest(data)
        status, _, _ = self.request("HEAD", f"blobs/{digest}", expect=(200, 404))
        if status == 404:
            _, headers, _ = self.request("POST", "blobs/uploads/", b"", expect=(202,))
            location = urllib.parse.urljoin(self.base, headers.get("Location", ""))
            separator = "&" if "?" in location else "?"
            url = f"{location}{separator}digest={urllib.parse.quote(digest)}"
            self.request("PUT", url, data, {"Content-Type": "application/octet-stream"}, expect=(201,))
        return {"digest": digest, "size": len(data)}

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None, *, expect: tuple[int, ...]
    ) -> tuple[int, Message, bytes]:
        url = path if "://" in path else self.base + path
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                status, answer_headers, data = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as failure:
            status, answer_headers, data = failure.code, failure.headers, failure.read()
        except (urllib.error.URLError, TimeoutError, OSError) as failure:
            reason = getattr(failure, "reason", failure)
            raise diag.error(
                "E0855",
                f"cannot reach the registry {self.reference.host} ({method} {urllib.parse.urlsplit(url).path}): {reason}",
                help=f"check that the registry runs and answers within {self.timeout:g}s ({TIMEOUT_VARIABLE} sets the limit)",
            ) from None
        if status not in expect:
            raise diag.error(
                "E0855",
                f"the registry {self.reference.host} refused {method} {urllib.parse.urlsplit(url).path}: HTTP {status}{_explain(data)}",
                help="registries that ask for credentials are not supported yet"
                if status == 401
                else "check the repository and tag (a push tags last, so one that failed left the tag as it was)",
            )
        return status, answer_headers, data


def _explain(data: bytes) -> str:
    """The registry's own error message, when it sent one as the distribution spec says."""
    try:
        errors = json.loads(data).get("errors", [])
        return "".join(f": {error.get('code')} {error.get('message')}" for error in errors[:1])
    except (ValueError, AttributeError, TypeError):
        return ""


def _timeout() -> float:
    text = os.environ.get(TIMEOUT_VARIABLE, "")
    try:
        value = float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        value = DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT
