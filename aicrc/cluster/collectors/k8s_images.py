"""K8s.image: the container images running in the cluster, read as the reference reads them: every
container, init container and ephemeral container of every pod, each image named by what follows
its last `/` and read as NAME: TAG (`nvcr.io/nvidia/gpu-operator:v25.10.1` is `gpu-operator:
v25.10.1`; a digest is dropped, and an image with no tag is `latest`). Two images of one name
keep the tag of the later pod in the API server's order (namespace, then name), as the reference's
map does."""

from __future__ import annotations

from collections.abc import Iterable

from aicrc.cluster.collectors.base import Collector, Sources
from aicrc.cluster.collectors.k8s_cluster import field
from aicrc.cluster.snapshot import Readings

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def collect(sources: Sources) -> Readings:
    kube = sources.cluster.api()
    return readings(sources.cluster.items("list pods in all namespaces", kube.core.list_pod_for_all_namespaces))


def readings(pods: Iterable[object]) -> Readings:
    found: Readings = {}
    for pod in pods:
        for kind in CONTAINER_LISTS:
            containers = field(pod, "spec", kind)
            for container in containers if isinstance(containers, list) else []:
                image = field(container, "image")
                if isinstance(image, str) and image:
                    name, tag = name_and_tag(image)
                    if name:
                        found[name] = tag
    return found


def name_and_tag(image: str) -> tuple[str, str]:
    """`registry.k8s.io/pause:3.9` is ("pause", "3.9"); `img@sha256:...` is ("img", "latest")."""
    last = image.rsplit("/", 1)[-1].split("@", 1)[0]
    name, colon, tag = last.rpartition(":")
    return (name, tag) if colon else (last, "latest")


COLLECTOR = Collector("K8s", "image", collect)
