"""What each component's install is expected to leave running (expected-resources, platform-health).

The reference keeps a health check per component (recipes/checks/COMPONENT/health-check.yaml, run
by chainsaw): one workload that must be up, and the component's pods, none of which may be
Pending, Failed or Unknown. `EXPECTED` holds those facts; the namespace is the recipe's own.
"""

from __future__ import annotations

from aicrc.cluster.checks.view import ClusterView, Finding, failed, labelled, name_of, passed
from aicrc.records import Record


class Expected(Record):
    kind: str  # Deployment or DaemonSet
    name: str
    pods: dict[str, str] | None = None  # the component's pods' labels; None: every pod of its namespace


EXPECTED: dict[str, Expected] = {
    "aws-ebs-csi-driver": Expected("Deployment", "ebs-csi-controller", {"app.kubernetes.io/name": "aws-ebs-csi-driver"}),
    "aws-efa": Expected("DaemonSet", "aws-efa-k8s-device-plugin", {"app.kubernetes.io/name": "aws-efa-k8s-device-plugin"}),
    "cert-manager": Expected("Deployment", "cert-manager"),
    "dynamo-platform": Expected("Deployment", "dynamo-platform-dynamo-operator-controller-manager"),
    "gpu-operator": Expected("Deployment", "gpu-operator"),
    "k8s-ephemeral-storage-metrics": Expected(
        "Deployment", "k8s-ephemeral-storage-metrics", {"app.kubernetes.io/name": "k8s-ephemeral-storage-metrics"}
    ),
    "kai-scheduler": Expected("Deployment", "kai-operator"),
    "kgateway": Expected("Deployment", "kgateway"),
    "kube-prometheus-stack": Expected("Deployment", "kube-prometheus-operator", {"app.kubernetes.io/name": "kube-prometheus-stack"}),
    "kubeflow-trainer": Expected("Deployment", "kubeflow-trainer-controller-manager"),
    "network-operator": Expected("Deployment", "network-operator"),
    "nvidia-dra-driver-gpu": Expected("DaemonSet", "nvidia-dra-driver-gpu-kubelet-plugin"),
    "nvsentinel": Expected("Deployment", "labeler"),
    "prometheus-adapter": Expected("Deployment", "prometheus-adapter", {"app.kubernetes.io/name": "prometheus-adapter"}),
    "skyhook-operator": Expected("Deployment", "skyhook-operator-controller-manager"),
}
UNHEALTHY_PHASES = ("Pending", "Failed", "Unknown")
SKYHOOK_COMPONENT = "skyhook-customizations"  # its Skyhooks must report `complete`


def expected_resources(view: ClusterView) -> Finding:
    """Each component's workload has all its replicas (pods) ready, none of its pods is Pending,
    Failed or Unknown, and each Skyhook the recipe applies has completed on its nodes."""
    problems = [*_workload_problems(view, every=True), *_pod_problems(view), *_skyhook_problems(view)]
    _note_unknown(view)
    if problems:
        return failed(f"{len(problems)} problem(s): {'; '.join(problems)}")
    return passed(f"the workloads of {len(_known(view))} components are ready and none of their pods is unhealthy")


def platform_health(view: ClusterView) -> Finding:
    """Every namespace the recipe deploys into exists and is Active, and each component's workload
    is available."""
    problems = []
    for namespace in sorted({component.namespace for component in view.recipe.components}):
        found = view.find(f"read Namespace {namespace}", f"/api/v1/namespaces/{namespace}")
        phase = str(((found or {}).get("status") or {}).get("phase") or "") if found else ""
        view.saw(f"Namespace {namespace}: {phase or 'not found'}")
        if phase != "Active":
            problems.append(f"namespace {namespace} is {phase or 'missing'}")
    problems += _workload_problems(view, every=False)
    _note_unknown(view)
    if problems:
        return failed(f"{len(problems)} problem(s): {'; '.join(problems)}")
    return passed("every namespace is Active and every component's workload is available")


def _known(view: ClusterView) -> list[tuple[str, str, Expected]]:
    """(component, namespace, what is expected of it) for the recipe's components aicrc knows."""
    return [(c.name, c.namespace, EXPECTED[c.name]) for c in view.recipe.components if c.name in EXPECTED]


def _workload_problems(view: ClusterView, *, every: bool) -> list[str]:
    problems = []
    for component, namespace, expected in _known(view):
        if expected.kind == "Deployment":
            ready = view.deployment_ready(namespace, expected.name, every_replica=every)
        else:
            ready = view.daemonset_ready(namespace, expected.name, every_node=every)
        if not ready:
            problems.append(f"{expected.kind} {namespace}/{expected.name} ({component}) is not {'ready' if every else 'available'}")
    return problems


def _pod_problems(view: ClusterView) -> list[str]:
    problems = []
    for component, namespace, expected in _known(view):
        pods = view.pods(namespace)
        if expected.pods is not None:
            pods = labelled(pods, expected.pods)
        unhealthy = [pod for pod in pods if str((pod.get("status") or {}).get("phase") or "Unknown") in UNHEALTHY_PHASES]
        for pod in unhealthy:
            phase = (pod.get("status") or {}).get("phase") or "Unknown"
            view.saw(f"Pod {namespace}/{name_of(pod)} ({component}): {phase}")
            problems.append(f"pod {namespace}/{name_of(pod)} ({component}) is {phase}")
    return problems


def _skyhook_problems(view: ClusterView) -> list[str]:
    problems = []
    for skyhook in view.manifest_objects(SKYHOOK_COMPONENT, "Skyhook"):
        name = name_of(skyhook)
        found = view.find(f"read Skyhook {name}", f"/apis/skyhook.nvidia.com/v1alpha1/skyhooks/{name}")
        state = str(((found or {}).get("status") or {}).get("status") or "no status") if found else "not found"
        view.saw(f"Skyhook {name}: {state}")
        if state != "complete":
            problems.append(f"Skyhook {name} is {state}, not complete")
    return problems


def _note_unknown(view: ClusterView) -> None:
    unknown = [c.name for c in view.recipe.components if c.name not in EXPECTED and c.name != SKYHOOK_COMPONENT]
    if unknown:
        view.saw(f"no expected workload known for {', '.join(unknown)}")
