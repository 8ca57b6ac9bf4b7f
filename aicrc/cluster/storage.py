"""Where a snapshot is kept: a file, or a Kubernetes ConfigMap named `cm://NAMESPACE/NAME`, stored
as the reference system stores one, so that aicr and aicrc read each other's:

    kind: ConfigMap
    metadata:
      labels: {app.kubernetes.io/name: aicrc, app.kubernetes.io/component: Snapshot, app.kubernetes.io/version: 0.1.0}
    data:
      snapshot.yaml: <the snapshot>      # snapshot.json with --format json
      format: yaml
      timestamp: "2026-11-26T21:51:52Z"  # the snapshot's own

A ConfigMap is written by server-side apply (field manager aicrc), forced: the ConfigMap named is
the user's to replace, whichever tool wrote it last. It is read with one GET, and the text read goes
through the same hostile-input-safe reader as a file (`read.read_snapshot_text`).
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from aicrc import diagnostics as diag
from aicrc.cluster.read import read_snapshot, read_snapshot_text
from aicrc.records import Record
from aicrc.version import __version__

if TYPE_CHECKING:
    from aicrc.cluster.kube import Kube, KubeError, Target
    from aicrc.cluster.snapshot import Snapshot

SCHEME: Final = "cm://"
# The API server refuses a ConfigMap whose data (keys and values) is larger.
MAX_CONFIGMAP_BYTES: Final = 1024 * 1024
FORMATS: Final = ("yaml", "json")  # what a ConfigMap holds; a table is for reading, not for reading back
StoredFormat: TypeAlias = Literal["yaml", "json"]
# A snapshot that could not be fetched from the cluster, as opposed to one with errors in it.
FETCH_CODES: Final = ("E0910", "E0915", "E0916")
LABELS: Final = {"app.kubernetes.io/name": "aicrc", "app.kubernetes.io/component": "Snapshot"}

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # a namespace (RFC 1123 label)
_LABEL_VALUE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_EXAMPLE = "cm://gpu-operator/aicr-snapshot"


class ConfigMapRef(Record):
    namespace: str
    name: str

    @property
    def uri(self) -> str:
        return f"{SCHEME}{self.namespace}/{self.name}"

    @property
    def path(self) -> str:
        """As a message names it (`gpu-operator/aicr-snapshot`)."""
        return f"{self.namespace}/{self.name}"


def is_configmap(where: str) -> bool:
    """Whether a snapshot's place (`-o`, `--snapshot`) names a ConfigMap rather than a file."""
    return where.startswith(SCHEME)


def is_namespace(name: str) -> bool:
    """Whether `name` is one Kubernetes accepts for a namespace (an RFC 1123 label)."""
    return len(name) <= 63 and _DNS_LABEL.fullmatch(name) is not None


def parse_configmap_uri(text: str) -> ConfigMapRef:
    """`cm://NAMESPACE/NAME`, each a name Kubernetes accepts (E0915 otherwise)."""
    namespace, slash, name = text.removeprefix(SCHEME).partition("/")
    problem = None
    if not text.startswith(SCHEME) or not slash:
        problem = "expected cm://NAMESPACE/NAME"
    elif not is_namespace(namespace):
        problem = f"the namespace {namespace!r} is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)"
    elif not (len(name) <= 253 and all(_DNS_LABEL.fullmatch(part) for part in name.split("."))):
        problem = f"the name {name!r} is not a ConfigMap name (lower-case letters, digits, '-' and '.', at most 253)"
    if problem is not None:
        raise diag.error(
            "E0915", f"{text}: not a ConfigMap URI: {problem}", help=f"a ConfigMap is named cm://NAMESPACE/NAME, e.g. {_EXAMPLE}"
        )
    return ConfigMapRef(namespace, name)


def read_snapshot_from(where: str, target: Target) -> Snapshot:
    """The snapshot at `where`: a file, or a ConfigMap of the `target` cluster (`cm://NS/NAME`)."""
    if not is_configmap(where):
        return read_snapshot(Path(where), where)
    ref = parse_configmap_uri(where)
    return read_configmap(connect(target), ref)


def connect(target: Target) -> Kube:
    from aicrc.cluster import kube

    try:
        return kube.connect(target)
    except kube.KubeError as failure:
        raise failure.as_error() from None


def read_configmap(kube: Kube, ref: ConfigMapRef) -> Snapshot:
    from aicrc.cluster.kube import KubeError

    try:
        configmap = kube.read(f"read the ConfigMap {ref.path}", kube.core.read_namespaced_config_map, ref.name, ref.namespace)
    except KubeError as failure:
        raise _kube_error(
            failure, f"no ConfigMap {ref.name} in the namespace {ref.namespace}: take one with `aicrc snapshot -o {ref.uri}`"
        ) from None
    data = configmap.get("data")
    data = data if isinstance(data, dict) else {}
    return read_snapshot_text(data[_snapshot_key(data, ref)], ref.uri)


def write_configmap(kube: Kube, ref: ConfigMapRef, snapshot: Snapshot, output_format: StoredFormat) -> None:
    """Apply the ConfigMap holding `snapshot`; E0917 before anything is sent when it cannot fit."""
    from aicrc.cluster.kube import KubeError

    body = configmap_object(ref, snapshot, output_format)
    size = sum(len(key.encode()) + len(value.encode()) for key, value in body["data"].items())
    if size > MAX_CONFIGMAP_BYTES:
        raise diag.error(
            "E0917",
            f"{ref.uri}: the snapshot is {size / 1e6:.2f} MB; a ConfigMap holds at most {MAX_CONFIGMAP_BYTES / 1e6:.2f} MB",
            help="write it to a file with -o FILE instead",
        )
    try:
        kube.apply(f"write the ConfigMap {ref.path}", kube.core.patch_namespaced_config_map, ref.name, ref.namespace, body, force=True)
    except KubeError as failure:
        raise _kube_error(
            failure, f"no namespace {ref.namespace}: create it (kubectl create namespace {ref.namespace}), or name another"
        ) from None


def configmap_object(ref: ConfigMapRef, snapshot: Snapshot, output_format: StoredFormat) -> dict[str, Any]:
    """The ConfigMap as it is applied: the snapshot under `snapshot.FORMAT`, as the reference keys it."""
    from aicrc.cluster.write import render

    version = snapshot.metadata.get("version", __version__)
    timestamp = snapshot.metadata.get("timestamp") or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    labels = dict(LABELS)
    if len(version) <= 63 and _LABEL_VALUE.fullmatch(version):  # a label value; a version that is none is left out
        labels["app.kubernetes.io/version"] = version
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": ref.name, "namespace": ref.namespace, "labels": labels},
        "data": {f"snapshot.{output_format}": render(snapshot, output_format), "format": output_format, "timestamp": timestamp},
    }


def _snapshot_key(data: dict[str, Any], ref: ConfigMapRef) -> str:
    """The key holding the snapshot: the one `format` names, else snapshot.yaml or snapshot.json,
    as the reference looks for it."""
    named = data.get("format")
    candidates = [f"snapshot.{named}"] if named in FORMATS else []
    for key in [*candidates, "snapshot.yaml", "snapshot.json"]:
        if isinstance(data.get(key), str):
            return key
    take = f"take one with `aicrc snapshot -o {ref.uri}` (add --agent to take it on a GPU node of the cluster)"
    if "snapshot.txt" in data or named == "table":
        raise diag.error("E0916", f"{ref.uri}: the ConfigMap holds a table (--format table), which cannot be read back", help=take)
    keys = ", ".join(sorted(map(str, data))[:10]) or "none"
    raise diag.error(
        "E0916", f"{ref.uri}: the ConfigMap holds no snapshot: no snapshot.yaml or snapshot.json key (its keys: {keys})", help=take
    )


def _kube_error(failure: KubeError, not_found: str) -> diag.AicrcError:
    """A failed call as E0910, with what to do about a 404 (`not_found`) in this place."""
    error = failure.as_error()
    if failure.reason != "not-found":
        return error
    return diag.AicrcError([diagnostic.replace(help=not_found) for diagnostic in error.diagnostics])
