"""Dynamic Resource Allocation: the cluster serves resource.k8s.io with NVIDIA's GPU DeviceClass,
its driver runs and advertises GPUs (dra-support), and GPUs reach workloads by claim, never by
mounting the host's device files (secure-accelerator-access).

A cluster that does not serve resource.k8s.io at all (404) *fails* dra-support rather than
skipping it, as the reference does: the recipe lists the check and installs a DRA driver, so the
cluster is not what the recipe describes. A read that is refused (403) or unanswered is skipped.
"""

from __future__ import annotations

from aicrc.cluster.checks.view import JSON, ClusterView, Finding, failed, name_of, verdict
from aicrc.cluster.kube import KubeError

DRIVER_COMPONENT = "nvidia-dra-driver-gpu"
GPU_DRIVER = "gpu.nvidia.com"  # the DRA driver's name, and the name of its GPU DeviceClass
API_VERSIONS = ("v1", "v1beta1")  # GA in Kubernetes 1.34; the recipes allow 1.32, which serves v1beta1


def device_classes(view: ClusterView) -> tuple[str, list[JSON]] | None:
    """(the resource.k8s.io version served, its DeviceClasses), or None where it serves neither."""
    for version in API_VERSIONS:
        try:
            return version, view.items(f"list DeviceClasses (resource.k8s.io/{version})", f"/apis/resource.k8s.io/{version}/deviceclasses")
        except KubeError as failure:
            if failure.reason != "not-found":
                raise
    return None


def _gpu_class(view: ClusterView) -> tuple[str, JSON | None] | None:
    served = device_classes(view)
    if served is None:
        view.saw(f"resource.k8s.io {' and '.join(API_VERSIONS)}: not served (404)")
        return None
    version, classes = served
    gpu_class = next((c for c in classes if name_of(c) == GPU_DRIVER), None)
    view.saw(f"DeviceClasses (resource.k8s.io/{version}): {', '.join(sorted(name_of(c) for c in classes)) or 'none'}")
    return version, gpu_class


def dra_support(view: ClusterView) -> Finding:
    found = _gpu_class(view)
    if found is None:
        return failed(
            "the cluster does not serve resource.k8s.io: Dynamic Resource Allocation is off (Kubernetes 1.32+ with the DRA APIs enabled)"
        )
    version, gpu_class = found
    namespace = view.namespace(DRIVER_COMPONENT, "nvidia-dra-driver")
    problems = []
    if gpu_class is None:
        problems.append(f"no DeviceClass {GPU_DRIVER}")
    if not view.deployment_ready(namespace, "nvidia-dra-driver-gpu-controller", every_replica=False):
        problems.append("the DRA driver's controller has no available replica")
    if not view.daemonset_ready(namespace, "nvidia-dra-driver-gpu-kubelet-plugin", every_node=False):
        problems.append("the DRA driver's kubelet plugin has no ready pod")
    slices = view.items(f"list ResourceSlices (resource.k8s.io/{version})", f"/apis/resource.k8s.io/{version}/resourceslices")
    gpu_slices = [s for s in slices if (s.get("spec") or {}).get("driver") == GPU_DRIVER]
    devices = sum(len((s.get("spec") or {}).get("devices") or []) for s in gpu_slices)
    nodes = sorted({str((s.get("spec") or {}).get("nodeName") or "") for s in gpu_slices} - {""})
    view.saw(f"ResourceSlices of driver {GPU_DRIVER}: {len(gpu_slices)}, {devices} devices on {len(nodes)} nodes")
    if not devices:
        problems.append(f"no ResourceSlice advertises a {GPU_DRIVER} device")
    return verdict(problems, f"DRA serves {devices} GPUs on {len(nodes)} nodes through DeviceClass {GPU_DRIVER}")


def secure_accelerator_access(view: ClusterView) -> Finding:
    """GPUs can be claimed through DRA, and no workload pod reaches them by mounting /dev/nvidia*
    from the host. The reference proves the first by running a claim; aicrc reads what is there:
    the DeviceClass, and every pod outside the namespaces of the recipe's components (whose
    operators legitimately reach the devices)."""
    found = _gpu_class(view)
    problems = []
    if found is None:
        problems.append("the cluster does not serve resource.k8s.io, so GPUs cannot be claimed")
    elif found[1] is None:
        problems.append(f"no DeviceClass {GPU_DRIVER}: GPUs cannot be claimed")
    platform = {component.namespace for component in view.recipe.components}
    workloads = [pod for pod in view.items("list Pods in all namespaces", "/api/v1/pods") if _namespace(pod) not in platform]
    exposed = [f"{_namespace(pod)}/{name_of(pod)} ({', '.join(paths)})" for pod in workloads if (paths := _host_devices(pod))]
    view.saw(f"Pods outside the platform's {len(platform)} namespaces: {len(workloads)}, {len(exposed)} mounting host GPU devices")
    for line in exposed:
        view.saw(f"Pod {line}")
    if exposed:
        problems.append(f"{len(exposed)} workload pod(s) mount GPU device files from the host: {', '.join(exposed)}")
    return verdict(problems, f"GPUs are claimed through DeviceClass {GPU_DRIVER}; no workload pod mounts host GPU devices")


def _namespace(pod: JSON) -> str:
    return str((pod.get("metadata") or {}).get("namespace") or "")


def _host_devices(pod: JSON) -> list[str]:
    volumes = (pod.get("spec") or {}).get("volumes") or []
    paths = [str((volume.get("hostPath") or {}).get("path") or "") for volume in volumes if isinstance(volume, dict)]
    return [path for path in paths if "/dev/nvidia" in path or path.rstrip("/") == "/dev"]
