"""Criteria from a snapshot: which accelerator, OS and service the measured cluster has, named in
the library's own dimension values (overlays included), each with the reading that chose it.

- accelerator: the GPU model (`GPU.smi.gpu.model`, else `GPU.nvml.gpu.model`), matched against the
  dimension's values and aliases as whole words, longest first: "NVIDIA H200" is h200,
  "NVIDIA GB200" gb200 (not b200), "NVIDIA GH200 480GB" nothing (no value names it).
- os: `OS.release.ID`, with `VERSION_ID` where a value needs the version (`ubuntu-24.04`, or
  Amazon Linux, whose ID is `amzn`: `al2023`).
- service: the node's provider ID (`K8s.node.provider-id`, `aws:///us-east-1a/i-...` is eks), else,
  as the reference does, the API server's version (`v1.32.4-eks-3025e55`).

A dimension the library lacks, or a reading no value matches, infers nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping

from aicrc.cluster.snapshot import Snapshot, reading_text
from aicrc.records import Record

# Kubernetes providerID schemes (node.spec.providerID), as the reference maps them, plus kind's.
PROVIDER_SERVICES = {"aws": "eks", "gce": "gke", "azure": "aks", "oci": "oke", "kind": "kind"}
# What managed Kubernetes adds to its server version, as the reference reads it.
SERVER_VERSION_SERVICES = (("-eks-", "eks"), ("-gke", "gke"), ("-aks", "aks"))
# os-release IDs that are not the name a recipe uses, with how the version completes it.
OS_RELEASE_NAMES = {"amzn": "al{version}"}


class Inferred(Record):
    dimension: str
    value: str  # a value or alias of the dimension
    field: str  # the reading that chose it: GPU.smi.gpu.model
    reading: str  # what the reading was: NVIDIA H200

    @property
    def where(self) -> str:
        return f"snapshot {self.field} = {json.dumps(self.reading)}"


def infer_criteria(snapshot: Snapshot, dimensions: Mapping[str, Collection[str]]) -> list[Inferred]:
    """`dimensions`: each dimension's values and aliases, lower case."""
    found = [rule(snapshot, dimensions[name]) for name, rule in _RULES.items() if name in dimensions]
    return [inferred for inferred in found if inferred is not None]


def _readings(snapshot: Snapshot, *fields: str) -> Iterable[tuple[str, str]]:
    for field in fields:
        value = snapshot.lookup(field).value
        if value is not None and reading_text(value).strip():
            yield field, reading_text(value).strip()


def _accelerator(snapshot: Snapshot, names: Collection[str]) -> Inferred | None:
    for field, model in _readings(snapshot, "GPU.smi.gpu.model", "GPU.nvml.gpu.model"):
        words = model.lower()
        for name in sorted(names, key=len, reverse=True):
            if re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", words):
                return Inferred("accelerator", name, field, model)
    return None


def _os(snapshot: Snapshot, names: Collection[str]) -> Inferred | None:
    for field, os_id in _readings(snapshot, "OS.release.ID"):
        version = next((value for _, value in _readings(snapshot, "OS.release.VERSION_ID")), "")
        os_id = os_id.lower()
        candidates = [f"{os_id}-{version}", f"{os_id}{version}", os_id] if version else [os_id]
        if os_id in OS_RELEASE_NAMES and version:
            candidates.append(OS_RELEASE_NAMES[os_id].format(version=version))
        for candidate in candidates:
            if candidate in names and candidate == os_id:
                return Inferred("os", candidate, field, os_id)
            if candidate in names:
                return Inferred("os", candidate, f"{field} and VERSION_ID", f"{os_id} {version}")
    return None


def _service(snapshot: Snapshot, names: Collection[str]) -> Inferred | None:
    for field, provider_id in _readings(snapshot, "K8s.node.provider-id"):
        service = PROVIDER_SERVICES.get(provider_id.partition("://")[0].strip().lower())
        if service is not None and service in names:
            return Inferred("service", service, field, provider_id)
    for field, version in _readings(snapshot, "K8s.server.version"):
        for marker, service in SERVER_VERSION_SERVICES:
            if marker in version and service in names:
                return Inferred("service", service, field, version)
    return None


_RULES: dict[str, Callable[[Snapshot, Collection[str]], Inferred | None]] = {
    "service": _service,
    "accelerator": _accelerator,
    "os": _os,
}
INFERABLE = tuple(_RULES)  # the dimensions a snapshot can name
