"""What the deployment and conformance checks see of a cluster: read-only GETs through the API
server, each asked once per run however many checks read it, and the notes of what each check
looked at, which its result carries (`looked at: DaemonSet gpu-operator/nvidia-dcgm-exporter: 4/4 ready`).

Every read is a GET of an API path (`/apis/apps/v1/namespaces/gpu-operator/deployments`): the
same call serves built-in kinds, CRDs, aggregated APIs (custom.metrics.k8s.io) and the API
server's service proxy (Prometheus), and the path is what a user with `kubectl get --raw` would
ask. A failed read is a `KubeError`; `find` answers None where "not found" is itself the finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from aicrc.cluster.kube import KubeError
from aicrc.records import Record

if TYPE_CHECKING:
    from aicrc.cluster.kube import Kube
    from aicrc.cluster.report import Status
    from aicrc.compiler.emit.model import CompiledRecipe, Constraint

JSON = dict[str, Any]


class Finding(Record):
    """A check's verdict; `constraint` and `actual` where it measured something the recipe bounds."""

    status: Status
    message: str
    actual: str | None = None
    constraint: Constraint | None = None


def passed(message: str, **measured: Any) -> Finding:
    return Finding("passed", message, **measured)


def failed(message: str, **measured: Any) -> Finding:
    return Finding("failed", message, **measured)


def verdict(problems: list[str], passing: str) -> Finding:
    """Failed with every problem found, or passed with what was seen to hold."""
    return failed("; ".join(problems)) if problems else passed(passing)


def skipped(message: str) -> Finding:
    return Finding("skipped", message)


class ClusterView:
    def __init__(self, kube: Kube, recipe: CompiledRecipe) -> None:
        self.kube = kube
        self.recipe = recipe
        self.looked: list[str] = []  # what the running check looked at, in order
        self._answers: dict[str, JSON | KubeError] = {}

    # ---- reading ------------------------------------------------------------------------------

    def get(self, what: str, path: str, query: Sequence[tuple[str, str]] = ()) -> JSON:
        """The JSON object at `path`; a `KubeError` (reason forbidden, not-found, timeout, ...) when
        the API server does not give it. Both are remembered: a path is asked once a run."""
        key = path + "?" + "&".join(f"{name}={value}" for name, value in query)
        if key not in self._answers:
            try:
                self._answers[key] = self.kube.read(what, self._call, path, list(query))
            except KubeError as failure:
                self._answers[key] = failure
        answer = self._answers[key]
        if isinstance(answer, KubeError):
            raise answer
        return answer

    def find(self, what: str, path: str) -> JSON | None:
        """The object at `path`, or None when the API server has no such object (or no such API)."""
        try:
            return self.get(what, path)
        except KubeError as failure:
            if failure.reason == "not-found":
                return None
            raise

    def items(self, what: str, path: str, query: Sequence[tuple[str, str]] = ()) -> list[JSON]:
        return [item for item in self.get(what, path, query).get("items") or [] if isinstance(item, dict)]

    def _call(self, path: str, query: list[tuple[str, str]], *, _preload_content: bool, _request_timeout: float) -> Any:
        """One GET, with the kubeconfig's credentials, answered as the raw HTTP response that
        `Kube.read` reads (an error status included, which it turns into a `KubeError`)."""
        client = self.kube.api_client
        method, url, headers, body, post = client.param_serialize(
            "GET", path, query_params=query, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
        )
        return client.call_api(method, url, headers, body, post, _request_timeout=_request_timeout).response

    # ---- what is read often ---------------------------------------------------------------------

    def deployments(self, namespace: str) -> dict[str, JSON]:
        return _by_name(self.items(f"list Deployments in {namespace}", f"/apis/apps/v1/namespaces/{namespace}/deployments"))

    def daemonsets(self, namespace: str) -> dict[str, JSON]:
        return _by_name(self.items(f"list DaemonSets in {namespace}", f"/apis/apps/v1/namespaces/{namespace}/daemonsets"))

    def pods(self, namespace: str) -> list[JSON]:
        return self.items(f"list Pods in {namespace}", f"/api/v1/namespaces/{namespace}/pods")

    def nodes(self) -> list[JSON]:
        return self.items("list Nodes", "/api/v1/nodes")

    def crd(self, name: str) -> JSON | None:
        return self.find(f"read CustomResourceDefinition {name}", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")

    def missing_crds(self, names: Iterable[str]) -> list[str]:
        """A problem for each CRD not installed; what was found is noted either way."""
        problems: list[str] = []
        for name in names:
            present = self.crd(name) is not None
            self.saw(f"CustomResourceDefinition {name}: {'present' if present else 'not found'}")
            if not present:
                problems.append(f"CRD {name} is not installed")
        return problems

    # ---- notes ----------------------------------------------------------------------------------

    def saw(self, note: str) -> None:
        self.looked.append(note)

    def deployment_ready(self, namespace: str, name: str, *, every_replica: bool = True) -> bool:
        """Whether Deployment `namespace/name` has its replicas available (or, with
        `every_replica=False`, at least one), noting what it found."""
        deployment = self.deployments(namespace).get(name)
        if deployment is None:
            self.saw(f"Deployment {namespace}/{name}: not found")
            return False
        available, wanted = deployment_replicas(deployment)
        self.saw(f"Deployment {namespace}/{name}: {available}/{wanted} available")
        return available >= (wanted if every_replica else 1) and available > 0

    def daemonset_ready(self, namespace: str, name: str, *, every_node: bool = True) -> bool:
        """Whether DaemonSet `namespace/name` is ready on every node it runs on (or, with
        `every_node=False`, on at least one), noting what it found."""
        daemonset = self.daemonsets(namespace).get(name)
        if daemonset is None:
            self.saw(f"DaemonSet {namespace}/{name}: not found")
            return False
        ready, desired = daemonset_pods(daemonset)
        self.saw(f"DaemonSet {namespace}/{name}: {ready}/{desired} ready")
        return ready >= (desired if every_node else 1) and ready > 0

    # ---- the recipe -----------------------------------------------------------------------------

    def has(self, component: str) -> bool:
        return any(c.name == component for c in self.recipe.components)

    def namespace(self, component: str, default: str) -> str:
        """Where the recipe deploys `component` (`default` when it does not)."""
        return next((c.namespace for c in self.recipe.components if c.name == component), default)

    def values(self, component: str) -> Mapping[str, Any]:
        return next((c.values for c in self.recipe.components if c.name == component), {})

    def manifest_objects(self, component: str, kind: str) -> list[JSON]:
        """The objects of `kind` among the manifests the recipe deploys with `component`."""
        found: list[JSON] = []
        for c in self.recipe.components:
            if c.name == component:
                for manifest in c.manifests:
                    found += [o for o in yaml.safe_load_all(manifest.content) if isinstance(o, dict) and o.get("kind") == kind]
        return found

    def constraint(self, phase: str, name: str) -> Constraint | None:
        return next((c for c in self.recipe.check_constraints.get(phase, []) if c.name == name), None)


# ---- reading objects ------------------------------------------------------------------------------


def deployment_replicas(deployment: JSON) -> tuple[int, int]:
    """(available, wanted) replicas; a Deployment without `spec.replicas` wants 1."""
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    wanted = spec.get("replicas")
    return _int(status.get("availableReplicas")), 1 if wanted is None else _int(wanted)


def daemonset_pods(daemonset: JSON) -> tuple[int, int]:
    """(ready, desired) pods."""
    status = daemonset.get("status") or {}
    return _int(status.get("numberReady")), _int(status.get("desiredNumberScheduled"))


def condition(obj: JSON, kind: str) -> JSON | None:
    """The status condition of type `kind` (Available, Accepted, Programmed), if the object has one."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if isinstance(c, dict) and c.get("type") == kind), None)


def condition_text(found: JSON | None) -> str:
    if found is None:
        return "no such condition"
    reason = f" ({found['reason']})" if found.get("reason") else ""
    return f"{found.get('type')}={found.get('status')}{reason}"


def labelled(items: Iterable[JSON], labels: Mapping[str, str]) -> list[JSON]:
    """The objects that carry every one of `labels`."""
    return [item for item in items if all(((item.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in labels.items())]


def name_of(obj: JSON) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def pod_ready(pod: JSON) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and (condition(pod, "Ready") or {}).get("status") == "True"


def pod_state(pod: JSON) -> str:
    """`Running`, `Running, not ready`, `Pending (ImagePullBackOff)`: a pod as a person would describe it."""
    status = pod.get("status") or {}
    phase = str(status.get("phase") or "Unknown")
    waiting = [
        str(s["state"]["waiting"].get("reason") or "waiting")
        for s in status.get("containerStatuses") or []
        if isinstance(s, dict) and isinstance((s.get("state") or {}).get("waiting"), dict)
    ]
    if waiting:
        return f"{phase} ({', '.join(waiting)})"
    return f"{phase}, not ready" if phase == "Running" and not pod_ready(pod) else phase


def gpu_count(node: JSON) -> int:
    """The GPUs a node offers to pods (`status.allocatable["nvidia.com/gpu"]`)."""
    return _int(((node.get("status") or {}).get("allocatable") or {}).get("nvidia.com/gpu"))


def _by_name(items: Iterable[JSON]) -> dict[str, JSON]:
    return {name_of(item): item for item in items}


def _int(value: object) -> int:
    try:
        return int(str(value)) if value is not None else 0
    except ValueError:
        return 0
