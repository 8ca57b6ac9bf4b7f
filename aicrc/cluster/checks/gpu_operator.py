"""The GPU Operator's checks: its pods run (operator-health), its version meets the recipe's floor
(gpu-operator-version), its ClusterPolicy is ready with the DCGM exporter (gpu-operator-health),
and every GPU node passed the operator's own driver validation (check-nvidia-smi)."""

from __future__ import annotations

from aicrc.cluster.checks.view import (
    JSON,
    ClusterView,
    Finding,
    condition,
    failed,
    gpu_count,
    labelled,
    name_of,
    passed,
    pod_ready,
    pod_state,
    skipped,
)
from aicrc.cluster.versions import evaluate

OPERATOR = "gpu-operator"  # the component, and the namespace and Deployment the reference looks for
VERSION_CONSTRAINT = "Deployment.gpu-operator.version"


def operator_health(view: ClusterView) -> Finding:
    """The operator's pods (`app=gpu-operator`) run and are ready. The reference counts pods in
    phase Running; a pod in CrashLoopBackOff is Running too, so aicrc asks for Ready as well."""
    namespace = view.namespace(OPERATOR, OPERATOR)
    pods = labelled(view.pods(namespace), {"app": "gpu-operator"})
    ready = [pod for pod in pods if pod_ready(pod)]
    view.saw(f"Pods in {namespace} labelled app=gpu-operator: {len(ready)}/{len(pods)} Running and ready")
    for pod in pods:
        view.saw(f"Pod {namespace}/{name_of(pod)}: {pod_state(pod)}")
    if not pods:
        return failed(f"no GPU Operator pod (app=gpu-operator) in {namespace}")
    if not ready:
        return failed(f"none of the {len(pods)} GPU Operator pods in {namespace} is Running and ready")
    return passed(f"{len(ready)} GPU Operator pod(s) Running and ready")


def gpu_operator_version(view: ClusterView) -> Finding:
    """The deployed operator's version (its `app.kubernetes.io/version` label, else its image tag)
    against the recipe's `Deployment.gpu-operator.version` constraint."""
    constraint = view.constraint("deployment", VERSION_CONSTRAINT)
    namespace = view.namespace(OPERATOR, OPERATOR)
    deployments = view.deployments(namespace)
    deployment = deployments.get("gpu-operator") or deployments.get("nvidia-gpu-operator")
    if deployment is None:
        view.saw(f"Deployments in {namespace}: no gpu-operator")
        return failed(f"no GPU Operator Deployment in {namespace}", constraint=constraint)
    version, source = _version(deployment)
    view.saw(f"Deployment {namespace}/{name_of(deployment)}: version {version or 'unknown'} ({source})")
    if not version:
        return failed("cannot tell the GPU Operator's version: no version label, and no tag on its image", constraint=constraint)
    if constraint is None:
        return passed(f"GPU Operator {version}; the recipe sets no {VERSION_CONSTRAINT} constraint", actual=version)
    expected = str(constraint.value).strip()
    outcome = evaluate(constraint.operator, expected, version)
    if outcome.problem:
        return failed(f"cannot compare: {outcome.problem}", actual=version, constraint=constraint)
    if not outcome.passed:
        return failed(f"expected {constraint.operator} {expected}, deployed {version}", actual=version, constraint=constraint)
    return passed(f"{version} {constraint.operator} {expected}", actual=version, constraint=constraint)


def _version(deployment: JSON) -> tuple[str, str]:
    metadata = deployment.get("metadata") or {}
    labels = metadata.get("labels") or {} if isinstance(metadata, dict) else {}
    if isinstance(labels, dict) and labels.get("app.kubernetes.io/version"):
        return _v(str(labels["app.kubernetes.io/version"])), "label app.kubernetes.io/version"
    spec = deployment.get("spec") or {}
    containers = (((spec.get("template") or {}).get("spec") or {}).get("containers") or []) if isinstance(spec, dict) else []
    for container in containers:
        image = str(container.get("image") or "") if isinstance(container, dict) else ""
        name, _, tag = image.rpartition(":")
        if "gpu-operator" in name and tag and "/" not in tag:
            return _v(tag.split("-", 1)[0]), f"image {image}"
    return "", "no version label, no gpu-operator image"


def _v(version: str) -> str:
    version = version.strip()
    return version if version.startswith("v") else f"v{version}"


def gpu_operator_health(view: ClusterView) -> Finding:
    """The operator's Deployment is available, its ClusterPolicy reports `ready`, and the DCGM
    exporter it deploys runs on at least one node."""
    namespace = view.namespace(OPERATOR, OPERATOR)
    problems = []
    if not view.deployment_ready(namespace, "gpu-operator", every_replica=False):
        problems.append("the gpu-operator Deployment has no available replica")
    policy = view.find("read ClusterPolicy cluster-policy", "/apis/nvidia.com/v1/clusterpolicies/cluster-policy")
    state = str(((policy or {}).get("status") or {}).get("state") or "") if policy else ""
    view.saw(f"ClusterPolicy cluster-policy: {'state ' + state if policy else 'not found'}")
    if policy is None:
        problems.append("no ClusterPolicy cluster-policy (is the GPU Operator's CRD installed?)")
    elif state != "ready":
        problems.append(f"ClusterPolicy cluster-policy is {state or 'without a state'}, not ready")
    if not view.daemonset_ready(namespace, "nvidia-dcgm-exporter", every_node=False):
        problems.append("the DCGM exporter (DaemonSet nvidia-dcgm-exporter) has no ready pod")
    return failed("; ".join(problems)) if problems else passed("the GPU Operator is available and its ClusterPolicy is ready")


def check_nvidia_smi(view: ClusterView) -> Finding:
    """Every schedulable GPU node passed the GPU Operator's validation, which runs the driver and
    CUDA checks on the node. The reference starts an nvidia-smi pod on each node; aicrc starts
    nothing, so it reads the verdict of the operator's own validator pod (`app=nvidia-operator-validator`)."""
    namespace = view.namespace(OPERATOR, OPERATOR)
    gpu_nodes = [node for node in view.nodes() if gpu_count(node) and not (node.get("spec") or {}).get("unschedulable")]
    if not gpu_nodes:
        view.saw("Nodes: none schedulable with allocatable nvidia.com/gpu")
        return skipped("no schedulable node offers nvidia.com/gpu: there is no GPU node to check")
    validators = labelled(view.pods(namespace), {"app": "nvidia-operator-validator"})
    on_node = {str((pod.get("spec") or {}).get("nodeName") or ""): pod for pod in validators}
    failing = []
    for node in gpu_nodes:
        node_name = name_of(node)
        pod = on_node.get(node_name)
        state = pod_state(pod) if pod else "no nvidia-operator-validator pod"
        view.saw(f"Node {node_name}: {gpu_count(node)} GPUs, validator {name_of(pod) if pod else '-'} {state}")
        if pod is None or (condition(pod, "Ready") or {}).get("status") != "True":
            failing.append(node_name)
    if failing:
        return failed(f"the GPU Operator's validation has not passed on {len(failing)} of {len(gpu_nodes)} GPU nodes: {', '.join(failing)}")
    return passed(f"the GPU Operator's validation passed on all {len(gpu_nodes)} GPU nodes")
