"""The snapshot agent: a Job that runs `aicrc snapshot -o cm://NAMESPACE/NAME` on a GPU node of the
cluster, with only the rights its collectors need, and the ConfigMap it writes read back here.

    agent = Agent(kube, config, say)
    try:
        agent.deploy()             # no Job of that name may run; apply the ServiceAccount and RBAC, create the Job
        agent.wait()               # poll the Job (and its pod, to say why it waits)
        snapshot = agent.read()    # the ConfigMap, through the hostile-input-safe reader
    finally:
        agent.cleanup()            # what this run wrote, unless config.cleanup is off; `agent.left` says what stays

What it deploys, and why no more, is `agent_job.py`'s; here, running it: each object written with
the kind's own call (`_CALLS`), the wait, the read and the cleanup.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from aicrc import diagnostics as diag
from aicrc.cluster.agent_job import AgentConfig, labelled, objects
from aicrc.cluster.kube import KubeError
from aicrc.cluster.storage import read_configmap
from aicrc.records import Record

if TYPE_CHECKING:
    from aicrc.cluster.kube import Kube
    from aicrc.cluster.snapshot import Snapshot

POLL_S: Final = 1.0
# Waiting reasons a pod does not recover from by itself: the Job fails now rather than at --timeout.
_STUCK: Final = ("ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError")


class Agent:
    """One run of the agent. `cleanup` deletes what `deploy` wrote, however far it got."""

    def __init__(self, kube: Kube, config: AgentConfig, say: Callable[[str], None]) -> None:
        self.kube = kube
        self.config = config
        self.say = say  # progress, for a person watching
        self.written: list[dict[str, Any]] = []  # what this run wrote, in order
        self.left: list[str] = []  # after cleanup: what is still in the cluster, as kubectl deletes it

    def deploy(self) -> None:
        config = self.config
        self._refuse_a_running_job()
        self.say(f"deploying to the namespace {config.namespace} (image {config.image})")
        for item in objects(config):
            self._write(item)
        self.say(f"created the Job {config.namespace}/{config.name}; waiting for it (at most {config.timeout:g} s)")

    def wait(self) -> None:
        """Until the Job completes; E0918 when it fails or its pod cannot start, E0919 at the deadline."""
        config = self.config
        deadline = time.monotonic() + config.timeout
        said = ""
        while True:
            status = self._read(
                f"read the Job {config.namespace}/{config.name}", self.kube.batch.read_namespaced_job_status, config.name, config.namespace
            )
            conditions = _true_conditions(status)
            if "Complete" in conditions:
                self.say(f"the Job completed; reading {config.output.uri}")
                return
            try:
                pod = self._pod()
                state = _pod_state(pod)
            except KubeError as failure:  # the pod only says why the Job waits: not seeing it is no reason to stop
                pod, state = None, _PodState(f"its pod is not known: cannot {failure.what}: {failure.detail}")
            if "Failed" in conditions:
                reason, message = conditions["Failed"]
                raise self._failed(f"the agent Job {config.namespace}/{config.name} failed: {reason}: {message}", pod)
            if state.stuck:
                raise self._failed(f"the agent's pod cannot start: {state.text}", pod)
            if state.text != said:
                self.say(state.text)
                said = state.text
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._late(state)
            time.sleep(min(POLL_S, left))

    def read(self) -> Snapshot:
        return read_configmap(self.kube, self.config.output)

    def cleanup(self) -> None:
        """Delete what this run wrote, the Job first (its pods with it); what cannot be deleted, or
        everything with cleanup off, is listed in `left`."""
        config = self.config
        if not self.written:
            return
        # The agent's own ConfigMap, which only its Job writes: the user's (-o cm://) stays.
        job_ran = any(item["kind"] == "Job" for item in self.written)
        scratch = [labelled("v1", "ConfigMap", config.output.name, config.output.namespace)] if config.scratch and job_ran else []
        remaining = [*reversed(self.written), *scratch]
        if not config.cleanup:
            self.left = [_kubectl_delete(item) for item in remaining]
            return
        self.say("cleaning up")
        for item in remaining:
            try:
                self._delete(item)
            except KubeError as failure:
                self.left.append(f"{_kubectl_delete(item)}  # {failure.detail}")

    def _refuse_a_running_job(self) -> None:
        """A Job of this name is another run's, or one left by --no-cleanup: its objects are not this run's to delete."""
        config = self.config
        try:
            self.kube.read(
                f"read the Job {config.namespace}/{config.name}", self.kube.batch.read_namespaced_job, config.name, config.namespace
            )
        except KubeError as failure:
            if failure.reason == "not-found":
                return
            raise failure.as_error() from None
        raise diag.error(
            "E0918",
            f"a Job {config.namespace}/{config.name} exists already: another snapshot agent is running, or one was left by --no-cleanup",
            help=f"wait for it, or delete it: kubectl -n {config.namespace} delete job {config.name}",
        )

    def _write(self, item: dict[str, Any]) -> None:
        kind, name, namespace = item["kind"], item["metadata"]["name"], item["metadata"].get("namespace")
        write = _CALLS[kind](self.kube).write
        where = [namespace] if namespace else []
        try:
            if kind == "Job":  # created, not applied: a Job's pod template cannot change, and another run's is not ours
                self.kube.read(f"create the Job {namespace}/{name}", write, namespace, item)
            else:  # applied: a ServiceAccount or a rule left by --no-cleanup is taken over, not a conflict
                self.kube.apply(f"apply the {kind} {'/'.join([*where, name])}", write, name, *where, item, force=True)
        except KubeError as failure:
            raise failure.as_error() from None
        self.written.append(item)

    def _delete(self, item: dict[str, Any]) -> None:
        kind, name, namespace = item["kind"], item["metadata"]["name"], item["metadata"].get("namespace")
        where = [namespace] if namespace else []
        # Jobs are deleted with their pods only when asked: the API's default for batch/v1 orphans them.
        options = {"propagation_policy": "Background"} if kind == "Job" else {}
        try:
            self.kube.read(f"delete the {kind} {'/'.join([*where, name])}", _CALLS[kind](self.kube).delete, name, *where, **options)
        except KubeError as failure:
            if failure.reason != "not-found":  # gone already: what cleanup wants
                raise

    def _pod(self) -> dict[str, Any] | None:
        """The Job's newest pod (the Job controller labels its pods `job-name`); a KubeError when they cannot be listed."""
        config = self.config
        pods = self.kube.read(
            f"list the pods of the Job {config.namespace}/{config.name}",
            self.kube.core.list_namespaced_pod,
            config.namespace,
            label_selector=f"job-name={config.name}",
        )
        items = [pod for pod in pods.get("items") or [] if isinstance(pod, dict)]
        return max(items, key=lambda pod: str(_get(pod, "metadata", "creationTimestamp") or ""), default=None)

    def _read(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return self.kube.read(what, call, *args, **kwargs)
        except KubeError as failure:
            raise failure.as_error() from None

    def _failed(self, message: str, pod: dict[str, Any] | None) -> diag.AicrcError:
        config = self.config
        said = _termination_message(pod)
        notes = (f"the agent said:\n{textwrap.indent(said, '    | ')}",) if said else ()
        kubectl = f"kubectl -n {config.namespace}"
        keep = "rerun with --no-cleanup to keep the Job, then " if config.cleanup else ""
        help = f"{keep}see `{kubectl} describe job {config.name}` and `{kubectl} logs job/{config.name}`"
        return diag.error("E0918", message, notes=notes, help=help)

    def _late(self, state: _PodState) -> diag.AicrcError:
        config = self.config
        selector = " ".join(f"--node-selector {key}={value}" for key, value in config.node_selector.items())
        if state.unscheduled:
            help = (
                f"no node matches {selector or 'the Job'} and tolerates its taints; name one: --node-selector kubernetes.io/hostname=NODE"
            )
        else:
            help = "raise --timeout, or see the pod with --no-cleanup and kubectl describe"
        return diag.error(
            "E0919", f"the agent Job {config.namespace}/{config.name} did not finish within {config.timeout:g} s: {state.text}", help=help
        )


class _Calls(Record):
    write: Callable[..., Any]  # server-side apply (patch), or create for a Job
    delete: Callable[..., Any]


_CALLS: Final[dict[str, Callable[[Kube], _Calls]]] = {
    "ServiceAccount": lambda kube: _Calls(kube.core.patch_namespaced_service_account, kube.core.delete_namespaced_service_account),
    "Role": lambda kube: _Calls(kube.rbac.patch_namespaced_role, kube.rbac.delete_namespaced_role),
    "RoleBinding": lambda kube: _Calls(kube.rbac.patch_namespaced_role_binding, kube.rbac.delete_namespaced_role_binding),
    "ClusterRole": lambda kube: _Calls(kube.rbac.patch_cluster_role, kube.rbac.delete_cluster_role),
    "ClusterRoleBinding": lambda kube: _Calls(kube.rbac.patch_cluster_role_binding, kube.rbac.delete_cluster_role_binding),
    "Job": lambda kube: _Calls(kube.batch.create_namespaced_job, kube.batch.delete_namespaced_job),
    "ConfigMap": lambda kube: _Calls(kube.core.patch_namespaced_config_map, kube.core.delete_namespaced_config_map),
}


class _PodState(Record):
    text: str  # what the pod is doing, for a person
    stuck: bool = False  # it will not start by itself
    unscheduled: bool = False


def _pod_state(pod: dict[str, Any] | None) -> _PodState:
    if pod is None:
        return _PodState("waiting for the Job's pod to be created")
    name = _get(pod, "metadata", "name") or "?"
    for condition in _get(pod, "status", "conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            said = condition.get("message") or condition.get("reason") or "no reason given"
            return _PodState(f"pod {name} is not scheduled: {said}", unscheduled=True)
    for container in _get(pod, "status", "containerStatuses") or []:
        waiting = _get(container, "state", "waiting")
        if isinstance(waiting, dict):
            reason = str(waiting.get("reason") or "waiting")
            message = waiting.get("message")
            return _PodState(f"pod {name}: {reason}" + (f": {message}" if message else ""), stuck=reason in _STUCK)
    phase = _get(pod, "status", "phase") or "Pending"
    node = _get(pod, "spec", "nodeName")
    return _PodState(f"pod {name} is {phase}" + (f" on the node {node}" if node else ""))


def _termination_message(pod: dict[str, Any] | None) -> str:
    """What the agent's container said as it ended (its termination message, or its last lines)."""
    for container in _get(pod, "status", "containerStatuses") or []:
        terminated = _get(container, "state", "terminated")
        if isinstance(terminated, dict):
            said = str(terminated.get("message") or "").strip()
            code = terminated.get("exitCode")
            return said or f"(nothing; it exited with {code}: {terminated.get('reason') or 'no reason given'})"
    return ""


def _true_conditions(job: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The Job's conditions that hold: type -> (reason, message)."""
    found = {}
    for condition in _get(job, "status", "conditions") or []:
        if isinstance(condition, dict) and condition.get("status") == "True":
            found[str(condition.get("type"))] = (str(condition.get("reason") or "no reason given"), str(condition.get("message") or ""))
    return found


def _get(data: object, *path: str) -> Any:
    """A field of an API answer, or None where the answer has no such field (or not a mapping on the way)."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _kubectl_delete(item: dict[str, Any]) -> str:
    namespace = item["metadata"].get("namespace")
    return f"kubectl {f'-n {namespace} ' if namespace else ''}delete {item['kind'].lower()} {item['metadata']['name']}"
