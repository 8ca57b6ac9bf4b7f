"""K8s.node: one node of the cluster as its Node object describes it, with the reference's readings
(`provider-id`, from which the service is inferred, `provider`, `kubelet-version`, the container
runtime, `kernel-version`, `operating-system`, `os-image`, `source-node`), plus its `architecture`
and two counts of the whole cluster: `node-count` and `gpu-node-count`.

The reference measures the node its agent runs on. So does aicrc, when that node is in the cluster:
the snapshot's own node (`node_name`: NODE_NAME from the agent Job's Downward API, else
KUBERNETES_NODE_NAME, else HOSTNAME; under --root, the tree's hostname). Run from elsewhere (a
workstation with a kubeconfig), it measures the first GPU node by name (one with `nvidia.com/gpu`
capacity, or labelled `nvidia.com/gpu.present=true` by GPU feature discovery), else the first node
by name: a recipe is about the GPU nodes, and one node's readings under the reference's names keep
`K8s.node.kubelet-version` meaning what it means in the reference's snapshots. `source-node` says
which node was measured.
"""

from __future__ import annotations

import os
import re
from typing import Any

from aicrc.cluster.collectors.base import Collector, SkipError, Sources
from aicrc.cluster.collectors.k8s_cluster import field, text
from aicrc.cluster.collectors.node import NodeSource
from aicrc.cluster.infer import PROVIDER_SERVICES
from aicrc.cluster.snapshot import Readings

# Where the node's name comes from on a live node, in the reference's order (the first is set by
# the Kubernetes Downward API in the agent Job).
NODE_NAME_VARIABLES = ("NODE_NAME", "KUBERNETES_NODE_NAME", "HOSTNAME")
HOSTNAME = "/proc/sys/kernel/hostname"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"

# Node.status.nodeInfo fields, as the reference names their readings.
NODE_INFO = {
    "kubeletVersion": "kubelet-version",
    "kernelVersion": "kernel-version",
    "operatingSystem": "operating-system",
    "osImage": "os-image",
    "architecture": "architecture",
}


def node_name(node: NodeSource) -> str:
    """The name of the node a snapshot measures: the live one's as the reference finds it, or the
    --root tree's hostname; "" when there is none."""
    if node.live:
        return next((os.environ[name] for name in NODE_NAME_VARIABLES if os.environ.get(name)), "")
    try:
        return node.read_text(HOSTNAME).strip()
    except SkipError:
        return ""


def collect(sources: Sources) -> Readings:
    kube = sources.cluster.api()
    nodes = sorted(sources.cluster.items("list nodes", kube.core.list_node), key=lambda node: text(node, "metadata", "name"))
    if not nodes:
        raise SkipError("the cluster has no nodes")
    gpu_nodes = [node for node in nodes if is_gpu_node(node)]
    own = node_name(sources.node)
    chosen = next((node for node in nodes if own and text(node, "metadata", "name") == own), None) or (gpu_nodes or nodes)[0]
    return {**readings(chosen), "node-count": len(nodes), "gpu-node-count": len(gpu_nodes)}


def readings(node: dict[str, Any]) -> Readings:
    """A Node object's readings under the reference's names; a field the node lacks is left out."""
    found: Readings = {"source-node": text(node, "metadata", "name")}
    provider_id = text(node, "spec", "providerID")
    if provider_id:
        scheme = provider_id.partition("://")[0].strip().lower()
        found["provider"] = PROVIDER_SERVICES.get(scheme, scheme)
        found["provider-id"] = provider_id
    runtime = text(node, "status", "nodeInfo", "containerRuntimeVersion")
    if runtime:
        found["container-runtime-id"] = runtime
        name, separator, version = runtime.partition("://")
        if separator:
            found["container-runtime-name"], found["container-runtime-version"] = name, version
    for key, reading in NODE_INFO.items():
        value = text(node, "status", "nodeInfo", key)
        if value:
            found[reading] = value
    return found


def is_gpu_node(node: dict[str, Any]) -> bool:
    gpus = max(_count(field(node, "status", where, GPU_RESOURCE)) for where in ("capacity", "allocatable"))
    return gpus > 0 or text(node, "metadata", "labels", GPU_PRESENT_LABEL) == "true"


def _count(quantity: object) -> int:
    """A whole-number resource quantity (`"8"`); anything else counts as none."""
    return int(quantity) if isinstance(quantity, str) and re.fullmatch(r"[0-9]{1,18}", quantity) else 0


COLLECTOR = Collector("K8s", "node", collect)
