"""The collectors of a snapshot, in the order their readings are written: the node's (GPU, OS,
SystemD), then the cluster's (K8s). Each is a module of its own exposing `COLLECTOR` or
`COLLECTORS` (see `base.py`).
"""

from __future__ import annotations

from aicrc.cluster.collectors import (
    cmdline,
    gpu_nvml,
    gpu_smi,
    k8s_helm,
    k8s_images,
    k8s_node,
    k8s_policy,
    k8s_server,
    kmod,
    os_release,
    sysctl,
    systemd,
)
from aicrc.cluster.collectors.base import Collector

NODE_COLLECTORS: tuple[Collector, ...] = (
    gpu_smi.COLLECTOR,
    gpu_nvml.COLLECTOR,
    cmdline.COLLECTOR,
    sysctl.COLLECTOR,
    kmod.COLLECTOR,
    os_release.COLLECTOR,
    *systemd.COLLECTORS,
)
# The reference's subtypes in its order (server, image, policy, node), then the Helm releases.
CLUSTER_COLLECTORS: tuple[Collector, ...] = (
    k8s_server.COLLECTOR,
    k8s_images.COLLECTOR,
    k8s_policy.COLLECTOR,
    k8s_node.COLLECTOR,
    k8s_helm.COLLECTOR,
)
COLLECTORS = NODE_COLLECTORS + CLUSTER_COLLECTORS
