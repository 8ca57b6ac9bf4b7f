"""`aicrc snapshot --agent`: a Job on a GPU node takes the snapshot in the cluster and writes it to a
ConfigMap, which is read back here. The objects it deploys validate against the Kubernetes schemas
and grant no more than the collectors need; the whole flow runs through the real `kubernetes`
client against tests/kube_replay.py, which records every request: the test plays the Job's part
by answering its status route and applying the ConfigMap the Job would have written.

Whatever happens (the Job fails, its pod never schedules, RBAC refuses an object, Ctrl-C), what
the run wrote is deleted, unless --no-cleanup; and nothing is written to a cluster without --agent
or -o cm://."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import all_versions

from aicrc.cli import main
from aicrc.cluster import agent as agents
from aicrc.cluster import agent_job
from aicrc.cluster.kube import APPLY_PATCH
from aicrc.cluster.read import read_snapshot
from aicrc.cluster.storage import ConfigMapRef, configmap_object
from aicrc.cluster.write import render
from aicrc.version import __version__
from tests.conftest import ROOT
from tests.kube_replay import Answer, Replay, forbidden

KUBE = ROOT / "tests" / "fixtures" / "kube"
NODE = ROOT / "tests" / "fixtures" / "nodes" / "h200-ubuntu-24.04"
H200 = ROOT / "tests" / "fixtures" / "snapshots" / "h200-ubuntu-24.04.yaml"

RBAC = "/apis/rbac.authorization.k8s.io/v1"
JOBS = "/apis/batch/v1/namespaces/default/jobs"
JOB = f"{JOBS}/aicrc-agent"
PODS = "/api/v1/namespaces/default/pods"
SCRATCH = "/api/v1/namespaces/default/configmaps/aicrc-agent"
DEPLOYED = [  # what the agent writes, in order: the ServiceAccount and its rights, then the Job
    ("PATCH", "/api/v1/namespaces/default/serviceaccounts/aicrc-agent"),
    ("PATCH", f"{RBAC}/namespaces/default/roles/aicrc-agent"),
    ("PATCH", f"{RBAC}/namespaces/default/rolebindings/aicrc-agent"),
    ("PATCH", f"{RBAC}/clusterroles/aicrc-agent-default"),
    ("PATCH", f"{RBAC}/clusterrolebindings/aicrc-agent-default"),
    ("POST", JOBS),
]
DELETED = [  # the Job first (its pod with it), then the rest, newest first, then the agent's ConfigMap
    ("DELETE", JOB),
    ("DELETE", f"{RBAC}/clusterrolebindings/aicrc-agent-default"),
    ("DELETE", f"{RBAC}/clusterroles/aicrc-agent-default"),
    ("DELETE", f"{RBAC}/namespaces/default/rolebindings/aicrc-agent"),
    ("DELETE", f"{RBAC}/namespaces/default/roles/aicrc-agent"),
    ("DELETE", "/api/v1/namespaces/default/serviceaccounts/aicrc-agent"),
    ("DELETE", SCRATCH),
]


def recorded(name: str) -> Any:
    return json.loads((KUBE / name).read_text(encoding="utf-8"))


def stored(ref: ConfigMapRef) -> dict[str, Any]:
    """The ConfigMap the agent's `aicrc snapshot -o cm://...` would have applied: the H200 snapshot's."""
    return configmap_object(ref, read_snapshot(H200), "yaml")


pytestmark = pytest.mark.usefixtures("no_ambient_cluster")  # the cluster only where a test names one


def calls(replay: Replay) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in replay.requests]


def agent(capsys: pytest.CaptureFixture[str], replay: Replay, tmp_path: Path, *arguments: str) -> tuple[int, str, str]:
    code = main(["snapshot", "--agent", "--kubeconfig", str(replay.kubeconfig(tmp_path)), *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def completing(routes: dict[tuple[str, str], Answer] | None = None) -> Replay:
    """A cluster where the agent's Job completes, its ConfigMap written."""
    replay = Replay({("GET", f"{JOB}/status"): Answer(recorded("job-complete.json")), **(routes or {})})
    replay.objects[SCRATCH] = stored(ConfigMapRef("default", "aicrc-agent"))
    return replay


# ---- the objects --------------------------------------------------------------------------------


CONFIG = agent_job.AgentConfig(output=ConfigMapRef("gpu-operator", "h200"), scratch=False, namespace="aicrc")


@pytest.mark.parametrize("version", sorted({all_versions()[0], all_versions()[-1]}))
@pytest.mark.parametrize("kind", ["ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "Job"])
def test_every_object_the_agent_deploys_validates(kind: str, version: str) -> None:
    (item,) = [item for item in agent_job.objects(CONFIG) if item["kind"] == kind]
    kubernetes_validate.validate(item, version, strict=True)


def test_the_agent_may_write_its_one_configmap_and_only_list_what_the_collectors_read() -> None:
    by_kind = {item["kind"]: item for item in agent_job.objects(CONFIG)}
    role = by_kind["Role"]
    assert role["metadata"]["namespace"] == "gpu-operator"  # the ConfigMap's
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["h200"], "verbs": ["create", "patch"]}]
    rules = by_kind["ClusterRole"]["rules"]
    assert {verb for rule in rules for verb in rule["verbs"]} == {"list"}
    assert {resource for rule in rules for resource in rule["resources"]} == {"nodes", "pods", "clusterpolicies"}  # no secrets
    for binding in ("RoleBinding", "ClusterRoleBinding"):
        assert by_kind[binding]["subjects"] == [{"kind": "ServiceAccount", "name": "aicrc-agent", "namespace": "aicrc"}]
    assert by_kind["ClusterRole"]["metadata"]["name"] == by_kind["ClusterRoleBinding"]["roleRef"]["name"] == "aicrc-agent-aicrc"


def test_the_job_runs_aicrc_snapshot_on_a_gpu_node_unprivileged() -> None:
    job = agent_job.job(CONFIG)
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == f"ghcr.io/aicrc/aicrc:{__version__}"
    assert [*container["command"], *container["args"]] == ["aicrc", "snapshot", "-o", "cm://gpu-operator/h200", "--format", "yaml"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert pod["tolerations"] == [{"operator": "Exists"}]
    assert pod["serviceAccountName"] == "aicrc-agent" and pod["restartPolicy"] == "Never"
    assert {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}} in container["env"]
    assert not {"hostPID", "hostNetwork", "hostIPC"} & set(pod)
    security = container["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"]} and security["allowPrivilegeEscalation"] is False
    assert "privileged" not in security and security["readOnlyRootFilesystem"] is True
    host = {volume["name"]: volume["hostPath"]["path"] for volume in pod["volumes"] if "hostPath" in volume}
    assert host == {"host-os-release": "/etc/os-release", "host-run-systemd": "/run/systemd"}
    mounts = {mount["name"]: mount for mount in container["volumeMounts"]}
    assert all(mounts[name].get("readOnly") for name in host)
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] > CONFIG.timeout  # the wait here ends first, and says why


# ---- the flow ---------------------------------------------------------------------------------------


def test_the_agent_deploys_waits_reads_writes_and_cleans_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "snapshot.yaml"
    with completing() as replay:
        code, out, err = agent(capsys, replay, tmp_path, "-o", str(output))
    assert code == 0, err
    assert out == ""
    assert output.read_text(encoding="utf-8") == render(read_snapshot(H200), "yaml")
    assert calls(replay) == [
        ("GET", JOB),  # no Job of that name may be running: its objects would not be this run's to delete
        *DEPLOYED,
        ("GET", f"{JOB}/status"),
        ("GET", SCRATCH),
        *DELETED,
    ]
    applied = [request for request in replay.requests if request.method == "PATCH"]
    assert all(r.content_type == APPLY_PATCH and r.query == {"fieldManager": ["aicrc"], "force": ["true"]} for r in applied)
    config = agent_job.AgentConfig(output=ConfigMapRef("default", "aicrc-agent"), scratch=True)
    assert [r.body for r in replay.writes() if r.method != "DELETE"] == agent_job.objects(config)
    (delete_job,) = [r for r in replay.requests if (r.method, r.path) == ("DELETE", JOB)]
    assert delete_job.query == {"propagationPolicy": ["Background"]}  # its pod with it: the API's default orphans it
    assert replay.objects == {}  # nothing left behind


def test_stdout_and_json_are_rendered_here(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with completing() as replay:
        code, out, err = agent(capsys, replay, tmp_path, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["metadata"] == read_snapshot(H200).metadata
    assert "note: OS.grub skipped: " in err  # the agent's skipped collectors, noted as for a snapshot taken here


def test_a_configmap_output_is_written_by_the_job_and_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = "/api/v1/namespaces/gpu-operator/configmaps/h200"
    routes = {("GET", "/apis/batch/v1/namespaces/gpu-operator/jobs/aicrc-agent/status"): Answer(recorded("job-complete.json"))}
    with Replay(routes) as replay:
        replay.objects[target] = stored(ConfigMapRef("gpu-operator", "h200"))
        code, out, err = agent(capsys, replay, tmp_path, "-o", "cm://gpu-operator/h200", "--format", "json")
    assert code == 0, err
    assert out == ""
    assert "note: the agent on vm wrote cm://gpu-operator/h200\n" in err  # the node the snapshot names
    (job,) = [r.body for r in replay.requests if r.method == "POST"]
    assert job["metadata"]["namespace"] == "gpu-operator"  # the ConfigMap's namespace, unless --namespace says another
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["snapshot", "-o", "cm://gpu-operator/h200", "--format", "json"]
    assert ("DELETE", target) not in calls(replay)
    assert target in replay.objects and len(replay.objects) == 1


def test_no_cleanup_deletes_nothing_and_says_what_is_left(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with completing() as replay:
        code, out, err = agent(capsys, replay, tmp_path, "--no-cleanup")
    assert code == 0, err
    assert out == render(read_snapshot(H200), "yaml")
    assert [r for r in replay.requests if r.method == "DELETE"] == []
    assert "note: --no-cleanup left these in the cluster; delete them with:" in err
    assert "  kubectl -n default delete job aicrc-agent\n" in err
    assert "  kubectl delete clusterrole aicrc-agent-default\n" in err
    assert "  kubectl -n default delete configmap aicrc-agent\n" in err


def test_a_job_that_fails_says_what_the_agent_said_and_is_cleaned_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "snapshot.yaml"
    routes = {("GET", f"{JOB}/status"): Answer(recorded("job-failed.json")), ("GET", PODS): Answer(recorded("agent-pods-failed.json"))}
    with Replay(routes) as replay:
        code, out, err = agent(capsys, replay, tmp_path, "-o", str(output))
    assert (code, out) == (2, "")
    assert (
        "error[E0918]: the agent Job default/aicrc-agent failed: BackoffLimitExceeded: Job has reached the specified backoff limit" in err
    )
    said = "the agent said:\n    | error[E0910]: Kubernetes: cannot write the ConfigMap default/aicrc-agent: HTTP 403: configmaps"
    assert said in err
    assert "    |   = help: the kubeconfig's identity lacks the RBAC permission named above\n" in err
    assert "rerun with --no-cleanup to keep the Job" in err
    assert not output.exists()
    (pods,) = [r for r in replay.requests if r.path == PODS]
    assert pods.query == {"labelSelector": ["job-name=aicrc-agent"]}
    assert calls(replay)[-len(DELETED) :] == DELETED
    assert "Traceback" not in err


def test_a_pod_that_never_schedules_ends_at_the_deadline_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes = {
        ("GET", f"{JOB}/status"): Answer(recorded("job-active.json")),
        ("GET", PODS): Answer(recorded("agent-pods-unschedulable.json")),
    }
    with Replay(routes) as replay:
        start = time.monotonic()
        code, out, err = agent(capsys, replay, tmp_path, "--timeout", "0.5")
        took = time.monotonic() - start
    assert (code, out) == (2, "")
    assert "error[E0919]: the agent Job default/aicrc-agent did not finish within 0.5 s: pod aicrc-agent-x7k2p is not scheduled: " in err
    assert "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector." in err
    assert "no node matches --node-selector nvidia.com/gpu.present=true and tolerates its taints" in err
    assert took < 10
    assert calls(replay)[-len(DELETED) :] == DELETED


def test_an_image_that_cannot_be_pulled_fails_now_not_at_the_deadline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes = {("GET", f"{JOB}/status"): Answer(recorded("job-active.json")), ("GET", PODS): Answer(recorded("agent-pods-image-pull.json"))}
    with Replay(routes) as replay:
        start = time.monotonic()
        code, _, err = agent(capsys, replay, tmp_path, "--image", "ghcr.io/aicrc/aicrc:0.1.0", "--timeout", "60")
        took = time.monotonic() - start
    assert code == 2
    assert "error[E0918]: the agent's pod cannot start: pod aicrc-agent-x7k2p: ImagePullBackOff: Back-off pulling image" in err
    assert took < 10
    assert calls(replay)[-len(DELETED) :] == DELETED


def test_rbac_refusing_an_object_stops_the_run_and_deletes_what_was_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused = {("PATCH", f"{RBAC}/clusterroles/aicrc-agent-default"): forbidden("patch", "clusterroles", "rbac.authorization.k8s.io")}
    with Replay(refused) as replay:
        code, out, err = agent(capsys, replay, tmp_path)
    assert (code, out) == (2, "")
    assert "error[E0910]: Kubernetes: cannot apply the ClusterRole aicrc-agent-default: HTTP 403: clusterroles is forbidden" in err
    assert calls(replay) == [
        ("GET", JOB),
        *DEPLOYED[:4],  # the ClusterRole refused: no binding, no Job
        ("DELETE", f"{RBAC}/namespaces/default/rolebindings/aicrc-agent"),
        ("DELETE", f"{RBAC}/namespaces/default/roles/aicrc-agent"),
        ("DELETE", "/api/v1/namespaces/default/serviceaccounts/aicrc-agent"),  # no Job ran: no ConfigMap of its to delete
    ]
    assert replay.objects == {}


def test_a_job_of_that_name_already_running_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay({("GET", JOB): Answer(recorded("job-active.json"))}) as replay:
        code, _, err = agent(capsys, replay, tmp_path)
    assert code == 2
    assert "error[E0918]: a Job default/aicrc-agent exists already" in err
    assert "kubectl -n default delete job aicrc-agent" in err
    assert replay.writes() == []


def test_cleanup_that_fails_says_what_is_left(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused = {("DELETE", f"{RBAC}/clusterroles/aicrc-agent-default"): forbidden("delete", "clusterroles", "rbac.authorization.k8s.io")}
    with completing(refused) as replay:
        code, out, err = agent(capsys, replay, tmp_path)
    assert code == 0 and out  # the snapshot was taken and written
    assert (
        "warning: cleanup could not delete these; delete them yourself:\n  kubectl delete clusterrole aicrc-agent-default  # HTTP 403"
        in err
    )
    assert [path for method, path in calls(replay) if method == "DELETE"] == [path for _, path in DELETED]


def test_ctrl_c_while_waiting_still_cleans_up(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(agents.time, "sleep", interrupted)
    with Replay({("GET", f"{JOB}/status"): Answer(recorded("job-active.json"))}) as replay:
        code, _, _ = agent(capsys, replay, tmp_path)
    assert code == 130
    assert calls(replay)[-len(DELETED) :] == DELETED


def test_pods_that_cannot_be_listed_only_leave_the_wait_less_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes = {("GET", f"{JOB}/status"): Answer(recorded("job-active.json")), ("GET", PODS): forbidden("list", "pods", namespace="default")}
    with Replay(routes) as replay:
        code, _, err = agent(capsys, replay, tmp_path, "--timeout", "0.5")
    assert code == 2
    assert "did not finish within 0.5 s: its pod is not known: cannot list the pods of the Job default/aicrc-agent: HTTP 403" in err
    assert "raise --timeout" in err


def test_progress_is_shown_on_a_terminal_only(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with completing() as replay:
        code, _, quiet = agent(capsys, replay, tmp_path)
    assert code == 0 and "agent:" not in quiet
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with completing() as replay:
        code, _, err = agent(capsys, replay, tmp_path)
    assert code == 0
    assert err.startswith(f"agent: deploying to the namespace default (image ghcr.io/aicrc/aicrc:{__version__})\n")
    assert "agent: created the Job default/aicrc-agent; waiting for it (at most 300 s)\n" in err
    assert "agent: the Job completed; reading cm://default/aicrc-agent\n" in err
    assert err.endswith("agent: cleaning up\n")


# ---- the command line -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--image", "x"], "--image: only with --agent"),
        (["--no-cleanup", "--timeout", "5"], "--timeout, --no-cleanup: only with --agent"),
        (["--agent", "--root", str(NODE)], "--agent takes the snapshot in the cluster: leave out --root"),
        (["--agent", "--node-selector", "gpu"], "--node-selector 'gpu': expected KEY=VALUE"),
        (["--agent", "--toleration", "gpu=yes:Sometimes"], "--toleration 'gpu=yes:Sometimes': the effect is one of"),
        (["--agent", "--timeout", "0"], "--timeout 0: must be more than 0 seconds"),
        (["--agent", "--namespace", "GPU"], "--namespace GPU: not a Kubernetes namespace name"),
    ],
)
def test_agent_options_on_a_wrong_command_line_are_usage_errors(
    arguments: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with Replay() as replay:
        code = main(["snapshot", "--kubeconfig", str(replay.kubeconfig(Path.home())), *arguments])
    assert code == 2
    assert said in capsys.readouterr().err
    assert replay.requests == []


def test_options_reach_the_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = "/apis/batch/v1/namespaces/snapshots/jobs/aicrc-agent/status"
    with Replay({("GET", status): Answer(recorded("job-complete.json"))}) as replay:
        replay.objects["/api/v1/namespaces/snapshots/configmaps/aicrc-agent"] = stored(ConfigMapRef("snapshots", "aicrc-agent"))
        arguments = ["--namespace", "snapshots", "--image", "registry.example/aicrc:dev", "--node-selector", "kubernetes.io/hostname=gpu-7"]
        code, _, err = agent(capsys, replay, tmp_path, *arguments, "--toleration", "nvidia.com/gpu:NoSchedule")
    assert code == 0, err
    (job,) = [r.body for r in replay.requests if r.method == "POST"]
    pod = job["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "registry.example/aicrc:dev"
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": "gpu-7"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_nothing_is_written_to_a_cluster_without_agent_or_a_configmap_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay({("GET", "/version"): Answer(recorded("version-eks.json"))}) as replay:
        code = main(["snapshot", "--root", str(NODE), "--kubeconfig", str(replay.kubeconfig(tmp_path)), "-o", str(tmp_path / "s.yaml")])
    assert code == 0
    assert replay.requests and replay.writes() == []
