"""What the snapshot agent deploys (see `agent.py`, which runs it): a ServiceAccount, a Role and a
ClusterRole with their bindings, and a Job that runs `aicrc snapshot -o cm://NAMESPACE/NAME` on a
GPU node, all labelled as aicrc's.

Least privilege, where the reference grants more:
- a Role in the ConfigMap's namespace lets the agent create and patch that one ConfigMap (server-side
  apply checks both verbs when it creates), nothing else there;
- a ClusterRole lets it list nodes (its own, and the cluster's counts), pods (the images running)
  and the GPU Operator's ClusterPolicies: what the Kubernetes collectors read, and only list. Not
  Secrets: Helm keeps releases in Secrets, and reading every Secret of the cluster is too much to
  grant for a snapshot, so an agent's snapshot measures no Helm releases (a skipped subtype);
- the pod is not privileged and shares none of the host's namespaces: it runs as root (systemd
  answers `systemctl show` only to root) with every capability dropped, a read-only root file
  system, and reads the host's /etc/os-release and /run/systemd through read-only hostPath mounts;
  /proc/cmdline, /proc/modules and the kernel's /proc/sys are the host's in any container. The
  GPUs are seen through the NVIDIA container runtime (NVIDIA_VISIBLE_DEVICES=all), without
  requesting one, so the agent also runs on a node whose GPUs are all in use.

Every object is a plain dict, which the tests validate against the Kubernetes schemas.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from aicrc.cluster.storage import ConfigMapRef, StoredFormat
from aicrc.records import Record
from aicrc.version import __version__

DEFAULT_IMAGE: Final = f"ghcr.io/aicrc/aicrc:{__version__}"
DEFAULT_NAME: Final = "aicrc-agent"
DEFAULT_NAMESPACE: Final = "default"
DEFAULT_NODE_SELECTOR: Final = {"nvidia.com/gpu.present": "true"}  # the label the GPU Operator sets on GPU nodes
TOLERATE_ALL: Final = ({"operator": "Exists"},)  # as the reference: a GPU node is often tainted
DEFAULT_TIMEOUT_S: Final = 300.0  # the reference's 5 minutes
FINISHED_TTL_S: Final = 3600  # a Job left by --no-cleanup removes itself an hour after it ends
# A Job nobody waits for any more stops this long after the wait ends; later than the wait, so
# that a pod that never started is reported as such (E0919), not as a Job past its deadline.
DEADLINE_MARGIN_S: Final = 60

LABELS: Final = {
    "app.kubernetes.io/name": "aicrc",
    "app.kubernetes.io/component": "snapshot-agent",
    "app.kubernetes.io/managed-by": "aicrc",
}
_RBAC: Final = "rbac.authorization.k8s.io"


class AgentConfig(Record):
    output: ConfigMapRef  # where the Job writes the snapshot
    scratch: bool  # whether that ConfigMap is the agent's own, deleted with the rest, or the user's (-o cm://)
    image: str = DEFAULT_IMAGE
    namespace: str = DEFAULT_NAMESPACE  # of the Job and its ServiceAccount
    name: str = DEFAULT_NAME  # of the Job, its ServiceAccount, Role and RoleBinding
    node_selector: Mapping[str, str] = DEFAULT_NODE_SELECTOR
    tolerations: tuple[Mapping[str, str], ...] = TOLERATE_ALL  # as a pod spec holds them
    output_format: StoredFormat = "yaml"
    timeout: float = DEFAULT_TIMEOUT_S
    cleanup: bool = True

    @property
    def cluster_name(self) -> str:
        """The ClusterRole's and ClusterRoleBinding's: cluster-wide, so one per agent namespace."""
        return f"{self.name}-{self.namespace}"


def objects(config: AgentConfig) -> list[dict[str, Any]]:
    """What the agent deploys, in order: the ServiceAccount and its rights, then the Job."""
    account = {"kind": "ServiceAccount", "name": config.name, "namespace": config.namespace}
    return [
        labelled("v1", "ServiceAccount", config.name, config.namespace),
        {
            **labelled(f"{_RBAC}/v1", "Role", config.name, config.output.namespace),
            "rules": [
                {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [config.output.name], "verbs": ["create", "patch"]}
            ],
        },
        {
            **labelled(f"{_RBAC}/v1", "RoleBinding", config.name, config.output.namespace),
            "subjects": [account],
            "roleRef": {"apiGroup": _RBAC, "kind": "Role", "name": config.name},
        },
        {
            **labelled(f"{_RBAC}/v1", "ClusterRole", config.cluster_name),
            "rules": [
                # What the K8s collectors list (collectors/k8s_*.py); /version is open to every identity.
                {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["list"]},
                {"apiGroups": ["nvidia.com"], "resources": ["clusterpolicies"], "verbs": ["list"]},
            ],
        },
        {
            **labelled(f"{_RBAC}/v1", "ClusterRoleBinding", config.cluster_name),
            "subjects": [account],
            "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": config.cluster_name},
        },
        job(config),
    ]


def job(config: AgentConfig) -> dict[str, Any]:
    args = ["snapshot", "-o", config.output.uri, "--format", config.output_format]
    host_paths = (("host-os-release", "/etc/os-release", "File"), ("host-run-systemd", "/run/systemd", "Directory"))
    container = {
        "name": "aicrc",
        "image": config.image,
        "command": ["aicrc"],
        "args": args,
        "env": [
            {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},  # the snapshot's source-node
            {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"},
            {"name": "NVIDIA_DRIVER_CAPABILITIES", "value": "utility"},  # nvidia-smi and NVML, nothing more
        ],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {
            "runAsUser": 0,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        # A failed run's last lines of output become the pod's termination message, which the error here quotes.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            *({"name": name, "mountPath": path, "readOnly": True} for name, path, _ in host_paths),
        ],
    }
    return {
        **labelled("batch/v1", "Job", config.name, config.namespace),
        "spec": {
            "backoffLimit": 0,  # one try: a failure is reported now, not retried for minutes
            "activeDeadlineSeconds": math.ceil(config.timeout) + DEADLINE_MARGIN_S,
            "ttlSecondsAfterFinished": FINISHED_TTL_S,
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "serviceAccountName": config.name,
                    "restartPolicy": "Never",
                    "nodeSelector": dict(config.node_selector),
                    "tolerations": [dict(toleration) for toleration in config.tolerations],
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {}},
                        *({"name": name, "hostPath": {"path": path, "type": kind}} for name, path, kind in host_paths),
                    ],
                },
            },
        },
    }


def labelled(api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    """An object's head: its kind, and its name and namespace with aicrc's labels."""
    metadata: dict[str, Any] = {"name": name, "labels": dict(LABELS)}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}
