"""Rules over the extra manifests components ship: removed Kubernetes APIs and `latest` images.

Manifests are read with PyYAML's composer, which keeps every node's line and column, so findings
point into the manifest file itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from aicrc import diagnostics as diag
from aicrc.source import Span

# API versions the Kubernetes project has removed (its deprecated-API migration guide):
# (apiVersion, kind or None for every kind) -> (removed in, what to use instead).
REMOVED_APIS: dict[tuple[str, str | None], tuple[str, str]] = {
    ("extensions/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "NetworkPolicy"): ("1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): ("1.16", "Pod Security Admission"),
    ("extensions/v1beta1", None): ("1.16", "apps/v1"),
    ("apps/v1beta1", None): ("1.16", "apps/v1"),
    ("apps/v1beta2", None): ("1.16", "apps/v1"),
    ("networking.k8s.io/v1beta1", None): ("1.22", "networking.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", None): ("1.22", "admissionregistration.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", None): ("1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", None): ("1.22", "apiregistration.k8s.io/v1"),
    ("authentication.k8s.io/v1beta1", None): ("1.22", "authentication.k8s.io/v1"),
    ("authorization.k8s.io/v1beta1", None): ("1.22", "authorization.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", None): ("1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", None): ("1.22", "coordination.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", None): ("1.22", "rbac.authorization.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", None): ("1.22", "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.27", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", None): ("1.22", "storage.k8s.io/v1"),
    ("batch/v1beta1", None): ("1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", None): ("1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", None): ("1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", None): ("1.25", "autoscaling/v2"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.25", "Pod Security Admission"),
    ("policy/v1beta1", None): ("1.25", "policy/v1"),
    ("node.k8s.io/v1beta1", None): ("1.25", "node.k8s.io/v1"),
    ("autoscaling/v2beta2", None): ("1.26", "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", None): ("1.26", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", None): ("1.29", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", None): ("1.32", "flowcontrol.apiserver.k8s.io/v1"),
    ("resource.k8s.io/v1alpha2", None): ("1.31", "resource.k8s.io/v1beta1 (Dynamic Resource Allocation was redesigned)"),
}

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def check_manifest(display: str, text: str) -> Iterator[diag.Diagnostic]:
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return  # not plain YAML (a template): nothing to read reliably
    for document in documents:
        if isinstance(document, yaml.MappingNode):
            yield from _removed_api(display, document)
        yield from _images(display, document)


def _span(display: str, node: yaml.Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(display, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _field(node: yaml.MappingNode, name: str) -> yaml.Node | None:
    return next((value for key, value in node.value if isinstance(key, yaml.ScalarNode) and key.value == name), None)


def _removed_api(display: str, document: yaml.MappingNode) -> Iterator[diag.Diagnostic]:
    api, kind = _field(document, "apiVersion"), _field(document, "kind")
    if not isinstance(api, yaml.ScalarNode):
        return
    kind_name = kind.value if isinstance(kind, yaml.ScalarNode) else None
    removed = REMOVED_APIS.get((api.value, kind_name)) or REMOVED_APIS.get((api.value, None))
    if removed is not None:
        version, instead = removed
        yield diag.Diagnostic(
            "L0109",
            f"{kind_name or 'this object'} uses `{api.value}`, which Kubernetes removed in {version}",
            _span(display, api),
            severity="warning",
            help=f"use {instead}",
        )


def _images(display: str, node: yaml.Node) -> Iterator[diag.Diagnostic]:
    """`image` of every container in a pod template, wherever the template sits in the object."""
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _images(display, item)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value in _CONTAINER_LISTS and isinstance(value, yaml.SequenceNode):
            for container in value.value:
                image = _field(container, "image") if isinstance(container, yaml.MappingNode) else None
                if isinstance(image, yaml.ScalarNode) and _pulls_latest(image.value):
                    yield diag.Diagnostic(
                        "L0106",
                        f"image `{image.value}` pulls `latest`",
                        _span(display, image),
                        severity="warning",
                        notes=("an image without a tag is pulled as `latest`, which moves from day to day",),
                        help="pin a version tag (or a digest)",
                    )
        yield from _images(display, value)


def _pulls_latest(reference: str) -> bool:
    if "@" in reference:  # a digest pins it exactly
        return False
    name = reference.rsplit("/", 1)[-1]
    return ":" not in name or name.endswith(":latest")
