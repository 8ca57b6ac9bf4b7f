"""`aicrc validate --phase deployment|conformance|performance|all`: the recipe's checks, read from a
cluster through the real `kubernetes` client talking to tests/kube_replay.py, which answers with
the recorded object shapes of tests/fixtures/kube/validate-*.json (a healthy cluster, a degraded
GPU Operator namespace; a cluster without DRA, RBAC denials and timeouts made from them); and the
NCCL all-reduce Job (validated with kubernetes-validate) and its results (tests/fixtures/nccl/).

Every check passes, fails or is skipped with a message, and says what it looked at."""

from __future__ import annotations

import copy
import json
import subprocess
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from aicrc.api import load_library
from aicrc.cli import main
from aicrc.cli.validate import CHECKS_HELP
from aicrc.cluster.checks import CHECKS, check_cluster
from aicrc.cluster.kube import Target, connect
from aicrc.cluster.nccl import parse_results
from aicrc.compiler.emit.model import CompiledRecipe
from tests.conftest import FLAGSHIP, ROOT
from tests.helpers import valid_ctrf
from tests.kube_replay import Answer, Replay, forbidden

KUBE = ROOT / "tests" / "fixtures" / "kube"
NCCL = ROOT / "tests" / "fixtures" / "nccl"
H200 = ROOT / "tests" / "fixtures" / "snapshots" / "h200-ubuntu-24.04.yaml"
H100_TRAINING = ROOT / "recipes" / "h100-eks-training.aicr"
H100_INFERENCE = ROOT / "recipes" / "h100-eks-inference.aicr"
H100_GKE = ROOT / "recipes" / "h100-gke-training.aicr"
H100_AKS = ROOT / "recipes" / "h100-aks-training.aicr"

# The resource (plural) of each kind the fixtures hold, for the paths the API server serves them at.
PLURALS = {
    "Namespace": "namespaces",
    "Node": "nodes",
    "Pod": "pods",
    "Deployment": "deployments",
    "DaemonSet": "daemonsets",
    "ClusterPolicy": "clusterpolicies",
    "DeviceClass": "deviceclasses",
    "ResourceSlice": "resourceslices",
    "CustomResourceDefinition": "customresourcedefinitions",
    "APIService": "apiservices",
    "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
    "EndpointSlice": "endpointslices",
    "GatewayClass": "gatewayclasses",
    "Gateway": "gateways",
    "Skyhook": "skyhooks",
}
FLAGSHIP_CONFORMANCE = [
    "accelerator-metrics",
    "ai-service-metrics",
    "cluster-autoscaling",
    "dra-support",
    "gang-scheduling",
    "gpu-operator-health",
    "platform-health",
    "pod-autoscaling",
]


def fixture(name: str) -> Any:
    return json.loads((KUBE / name).read_text(encoding="utf-8"))


def healthy() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = fixture("validate-cluster-healthy.json")["items"]
    return items


def degraded() -> list[dict[str, Any]]:
    """The healthy cluster with the GPU Operator namespace's objects replaced by the degraded ones."""
    return overlay(healthy(), fixture("validate-gpu-operator-degraded.json")["items"])


def overlay(objects: list[dict[str, Any]], replacements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(obj: dict[str, Any]) -> tuple[str, str, str]:
        return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]

    replaced = {key(obj): obj for obj in replacements}
    kept = [replaced.pop(key(obj), obj) for obj in objects]
    return kept + list(replaced.values())


def routes(objects: list[dict[str, Any]], answers: dict[str, Any] | None = None) -> dict[tuple[str, str], Answer]:
    """Every object at its own path, in the list of its namespace and in the list of all
    namespaces, as the API server serves them; plus the answers that are not objects."""
    served: dict[tuple[str, str], Answer] = {}
    lists: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for obj in objects:
        api = obj["apiVersion"]
        base = "/api/v1" if api == "v1" else f"/apis/{api}"
        plural, namespace, name = PLURALS[obj["kind"]], obj["metadata"].get("namespace"), obj["metadata"]["name"]
        if namespace:
            served[("GET", f"{base}/namespaces/{namespace}/{plural}/{name}")] = Answer(obj)
            lists[f"{base}/namespaces/{namespace}/{plural}"].append(obj)
        else:
            served[("GET", f"{base}/{plural}/{name}")] = Answer(obj)
        lists[f"{base}/{plural}"].append(obj)
    for path, items in lists.items():
        served[("GET", path)] = Answer({"kind": f"{items[0]['kind']}List", "apiVersion": items[0]["apiVersion"], "items": items})
    for path, body in (fixture("validate-api-answers.json") if answers is None else answers).items():
        served[("GET", path)] = Answer(body)
    return served


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Replay, Path]]:
    """A healthy cluster; a test changes `replay.routes` to make it otherwise."""
    with Replay(routes(healthy())) as replay:
        yield replay, replay.kubeconfig(tmp_path)


def validate(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["validate", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def results(report_json: str) -> dict[str, dict[str, Any]]:
    return {result["name"]: result for result in json.loads(report_json)["results"]}


def run(
    capsys: pytest.CaptureFixture[str], kubeconfig: Path, recipe: Path, phase: str, *more: str
) -> tuple[int, dict[str, dict[str, Any]]]:
    code, out, err = validate(capsys, str(recipe), "--phase", phase, "--kubeconfig", str(kubeconfig), "--format", "json", *more)
    assert "Traceback" not in err
    return code, results(out)


# ---- a healthy cluster ----------------------------------------------------------------------------


def test_the_flagships_conformance_checks_pass_on_a_healthy_cluster(
    cluster: tuple[Replay, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, kubeconfig = cluster
    code, found = run(capsys, kubeconfig, FLAGSHIP, "conformance")
    assert code == 0
    assert sorted(found) == FLAGSHIP_CONFORMANCE
    assert {name: result["status"] for name, result in found.items()} == dict.fromkeys(FLAGSHIP_CONFORMANCE, "passed")
    assert all(result["lookedAt"] and result["phase"] == "conformance" for result in found.values())
    assert "DaemonSet gpu-operator/nvidia-dcgm-exporter: 2/2 ready" in found["accelerator-metrics"]["lookedAt"]
    assert (
        "Prometheus monitoring/kube-prometheus-prometheus:9090 (service proxy), series: DCGM_FI_DEV_GPU_UTIL 8, DCGM_FI_DEV_FB_USED 8,"
        " DCGM_FI_DEV_GPU_TEMP 8, DCGM_FI_DEV_POWER_USAGE 8"
    ) in found["accelerator-metrics"]["lookedAt"]
    assert "ClusterPolicy cluster-policy: state ready" in found["gpu-operator-health"]["lookedAt"]
    assert found["dra-support"]["message"] == "DRA serves 8 GPUs on 2 nodes through DeviceClass gpu.nvidia.com"
    assert "ResourceSlices of driver gpu.nvidia.com: 2, 8 devices on 2 nodes" in found["dra-support"]["lookedAt"]
    assert "Deployment kai-scheduler/kai-scheduler-default: 1/1 available" in found["gang-scheduling"]["lookedAt"]
    assert "APIService v1beta1.custom.metrics.k8s.io: Available=True (Passed)" in found["ai-service-metrics"]["lookedAt"]
    assert "custom metric gpu_utilization of pods in gpu-operator: values: 2" in found["pod-autoscaling"]["lookedAt"]
    assert "in EKS managed node group(s) gpu-gb200" in found["cluster-autoscaling"]["message"]
    assert "Namespace gpu-operator: Active" in found["platform-health"]["lookedAt"]
    # read-only: every request a GET, Prometheus asked through the service proxy with its query
    assert not replay.writes()
    query = next(r for r in replay.requests if r.path.endswith("/proxy/api/v1/query"))
    assert query.query["query"] == [
        'count by (__name__) ({__name__=~"DCGM_FI_DEV_GPU_UTIL|DCGM_FI_DEV_FB_USED|DCGM_FI_DEV_GPU_TEMP|DCGM_FI_DEV_POWER_USAGE"})'
    ]
    assert len([r for r in replay.requests if r.path == "/apis/apps/v1/namespaces/gpu-operator/daemonsets"]) == 1  # asked once


def test_the_deployment_checks_pass_and_the_operator_version_meets_the_recipes_floor(
    cluster: tuple[Replay, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, kubeconfig = cluster
    code, found = run(capsys, kubeconfig, H100_TRAINING, "deployment")
    assert code == 0
    assert [(name, r["status"]) for name, r in found.items()] == [
        ("check-nvidia-smi", "passed"),
        ("expected-resources", "passed"),
        ("gpu-operator-version", "passed"),
        ("operator-health", "passed"),
    ]
    version = found["gpu-operator-version"]
    assert (version["operator"], version["expected"], version["actual"]) == (">=", "v24.6.0", "v25.10.1")
    assert version["lookedAt"] == ["Deployment gpu-operator/gpu-operator: version v25.10.1 (label app.kubernetes.io/version)"]
    assert "Skyhook tuning: complete" in found["expected-resources"]["lookedAt"]
    assert "DaemonSet kube-system/aws-efa-k8s-device-plugin: 2/2 ready" in found["expected-resources"]["lookedAt"]
    assert "no expected workload known for nfd, node-problem-detector, prometheus-operator-crds" in found["expected-resources"]["lookedAt"]
    assert found["check-nvidia-smi"]["lookedAt"] == [
        "Node ip-10-0-72-14.ec2.internal: 4 GPUs, validator nvidia-operator-validator-5kq8r Running",
        "Node ip-10-0-75-201.ec2.internal: 4 GPUs, validator nvidia-operator-validator-w9fzt Running",
    ]


def test_the_inference_recipes_conformance_checks_pass(cluster: tuple[Replay, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, kubeconfig = cluster
    code, found = run(capsys, kubeconfig, H100_INFERENCE, "conformance")
    assert code == 0 and len(found) == 11
    assert {r["status"] for r in found.values()} == {"passed"}
    assert found["robust-controller"]["lookedAt"][1:] == [
        "ValidatingWebhookConfiguration dynamo-platform-dynamo-operator-validating-webhook-configuration"
        " -> Service dynamo-system/dynamo-platform-dynamo-operator-webhook-service: ready endpoints: 1",
        "CustomResourceDefinition dynamographdeployments.nvidia.com: present",
    ]
    assert found["inference-gateway"]["lookedAt"][:2] == [
        "GatewayClass kgateway: Accepted=True (Accepted)",
        "Gateway kgateway-system/inference-gateway: Programmed=True (Programmed)",
    ]
    assert "Pods outside the platform's 11 namespaces: 2, 0 mounting host GPU devices" in found["secure-accelerator-access"]["lookedAt"]


def test_the_table_says_what_each_check_looked_at(cluster: tuple[Replay, Path], capsys: pytest.CaptureFixture[str]) -> None:
    replay, kubeconfig = cluster
    code, out, _ = validate(capsys, str(H100_TRAINING), "--phase", "deployment", "--kubeconfig", str(kubeconfig))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "deployment: h100-eks-training (service=eks, accelerator=h100, os=ubuntu, intent=training, platform=kubeflow)"
        f" against the cluster at {replay.url}"
    )
    assert lines[1] == "STATUS  CHECK                 EXPECTED    MEASURED"
    assert "PASSED  gpu-operator-version  >= v24.6.0  v25.10.1" in lines
    assert "        looked at: Deployment gpu-operator/gpu-operator: version v25.10.1 (label app.kubernetes.io/version)" in lines
    assert lines[-1] == "4 passed, 0 failed, 0 skipped"


# ---- a degraded GPU Operator namespace ----------------------------------------------------------


def test_a_degraded_gpu_operator_fails_the_deployment_checks_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay(routes(degraded())) as replay:
        code, found = run(capsys, replay.kubeconfig(tmp_path), H100_TRAINING, "deployment")
    assert code == 1
    assert {name: r["status"] for name, r in found.items()} == dict.fromkeys(found, "failed")
    assert found["operator-health"]["message"] == "none of the 1 GPU Operator pods in gpu-operator is Running and ready"
    assert "Pod gpu-operator/gpu-operator-7d9c8b6f5-x2x4z: Running (CrashLoopBackOff)" in found["operator-health"]["lookedAt"]
    version = found["gpu-operator-version"]  # no version label: read from the image's tag
    assert (version["actual"], version["message"]) == ("v24.3.0", "expected >= v24.6.0, deployed v24.3.0")
    assert version["lookedAt"] == ["Deployment gpu-operator/gpu-operator: version v24.3.0 (image nvcr.io/nvidia/gpu-operator:v24.3.0)"]
    assert found["check-nvidia-smi"]["message"] == (
        "the GPU Operator's validation has not passed on 1 of 2 GPU nodes: ip-10-0-75-201.ec2.internal"
    )
    assert found["expected-resources"]["message"] == (
        "3 problem(s): Deployment gpu-operator/gpu-operator (gpu-operator) is not ready;"
        " pod gpu-operator/nvidia-driver-daemonset-w9fzt (gpu-operator) is Pending;"
        " pod gpu-operator/nvidia-operator-validator-w9fzt (gpu-operator) is Pending"
    )


def test_a_degraded_gpu_operator_fails_the_conformance_checks_that_need_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay(routes(degraded())) as replay:
        code, found = run(capsys, replay.kubeconfig(tmp_path), H100_INFERENCE, "conformance")
    assert code == 1
    failing = {name for name, r in found.items() if r["status"] == "failed"}
    assert failing == {"gpu-operator-health", "accelerator-metrics", "platform-health", "secure-accelerator-access"}
    assert found["gpu-operator-health"]["message"] == (
        "the gpu-operator Deployment has no available replica; ClusterPolicy cluster-policy is notReady, not ready;"
        " the DCGM exporter (DaemonSet nvidia-dcgm-exporter) has no ready pod"
    )
    assert found["accelerator-metrics"]["message"] == "the DCGM exporter (DaemonSet nvidia-dcgm-exporter) is not ready on every node"
    assert found["secure-accelerator-access"]["message"] == (
        "1 workload pod(s) mount GPU device files from the host: team-a/legacy-inference-0 (/dev/nvidia0, /dev/nvidiactl)"
    )


# ---- a cluster without DRA, or with it at v1beta1 ----------------------------------------------------


def test_a_cluster_without_dra_fails_the_checks_that_need_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """404 for the resource.k8s.io group means the cluster does not have DRA: the recipe lists
    dra-support and installs a DRA driver, so that is a failure, not a skip."""
    objects = [
        o for o in healthy() if not o["apiVersion"].startswith("resource.k8s.io/") and o["metadata"].get("namespace") != "nvidia-dra-driver"
    ]
    with Replay(routes(objects)) as replay:
        code, found = run(capsys, replay.kubeconfig(tmp_path), H100_INFERENCE, "conformance")
    assert code == 1
    dra = found["dra-support"]
    assert (dra["status"], dra["message"]) == (
        "failed",
        "the cluster does not serve resource.k8s.io: Dynamic Resource Allocation is off (Kubernetes 1.32+ with the DRA APIs enabled)",
    )
    assert dra["lookedAt"] == ["resource.k8s.io v1 and v1beta1: not served (404)"]
    assert found["secure-accelerator-access"]["message"] == "the cluster does not serve resource.k8s.io, so GPUs cannot be claimed"
    assert found["gang-scheduling"]["status"] == "passed"


def test_a_kubernetes_1_32_cluster_serves_dra_at_v1beta1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    objects = copy.deepcopy(healthy())
    for obj in objects:
        if obj["apiVersion"] == "resource.k8s.io/v1":
            obj["apiVersion"] = "resource.k8s.io/v1beta1"
    with Replay(routes(objects)) as replay:
        _, found = run(capsys, replay.kubeconfig(tmp_path), FLAGSHIP, "conformance")
    assert found["dra-support"]["status"] == "passed"
    assert found["dra-support"]["lookedAt"][0].startswith("DeviceClasses (resource.k8s.io/v1beta1): compute-domain-daemon.nvidia.com, ")


# ---- what the cluster does not allow or does not answer ---------------------------------------


def test_rbac_denials_skip_the_checks_that_needed_the_read_and_say_which_permission(
    cluster: tuple[Replay, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    replay, kubeconfig = cluster
    replay.routes[("GET", "/api/v1/nodes")] = forbidden("list", "nodes")
    replay.routes[("GET", "/apis/nvidia.com/v1/clusterpolicies/cluster-policy")] = forbidden("get", "clusterpolicies", "nvidia.com")
    proxy = "/api/v1/namespaces/monitoring/services/kube-prometheus-prometheus:9090/proxy/api/v1/query"
    replay.routes[("GET", proxy)] = forbidden("get", "services/proxy", namespace="monitoring")
    code, found = run(capsys, kubeconfig, FLAGSHIP, "conformance")
    assert code == 2  # not everything could be checked; nothing failed
    skipped = {name: r["message"] for name, r in found.items() if r["status"] == "skipped"}
    assert set(skipped) == {"accelerator-metrics", "ai-service-metrics", "cluster-autoscaling", "gpu-operator-health"}
    assert skipped["cluster-autoscaling"] == (
        'not allowed to list Nodes: HTTP 403: nodes is forbidden: User "system:serviceaccount:default:reader" cannot list resource "nodes"'
        ' in API group "" at the cluster scope (the kubeconfig\'s identity lacks the RBAC permission named above)'
    )
    assert 'cannot get resource "clusterpolicies" in API group "nvidia.com"' in skipped["gpu-operator-health"]
    assert skipped["accelerator-metrics"].startswith(
        "not allowed to query Prometheus monitoring/kube-prometheus-prometheus:9090 through the API server's service proxy"
    )
    # what was seen before the refusal stays in the result
    assert found["accelerator-metrics"]["lookedAt"] == ["DaemonSet gpu-operator/nvidia-dcgm-exporter: 2/2 ready"]
    assert {found[name]["status"] for name in ("dra-support", "gang-scheduling", "platform-health", "pod-autoscaling")} == {"passed"}


def test_a_slow_answer_skips_the_check_after_the_request_timeout(cluster: tuple[Replay, Path], capsys: pytest.CaptureFixture[str]) -> None:
    replay, kubeconfig = cluster
    path = "/apis/nvidia.com/v1/clusterpolicies/cluster-policy"
    replay.routes[("GET", path)] = Answer(replay.routes[("GET", path)].body, delay=2.0)
    code, found = run(capsys, kubeconfig, FLAGSHIP, "conformance", "--request-timeout", "0.5")
    assert code == 2
    health = found["gpu-operator-health"]
    assert (health["status"], health["message"]) == (
        "skipped",
        f"could not check: cannot read ClusterPolicy cluster-policy: no answer from {replay.url} within 0.5 s",
    )
    assert [r["status"] for name, r in found.items() if name != "gpu-operator-health"] == ["passed"] * 7


def test_an_answer_of_an_unexpected_shape_skips_the_check(cluster: tuple[Replay, Path], capsys: pytest.CaptureFixture[str]) -> None:
    replay, kubeconfig = cluster
    policy = {"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy", "metadata": {"name": "cluster-policy"}, "status": "ready"}
    replay.routes[("GET", "/apis/nvidia.com/v1/clusterpolicies/cluster-policy")] = Answer(policy)
    replay.routes[("GET", "/apis/apps/v1/namespaces/kai-scheduler/deployments")] = Answer(b"<html>proxy error</html>")
    code, found = run(capsys, kubeconfig, FLAGSHIP, "conformance")
    assert code == 2
    assert found["gpu-operator-health"]["message"] == (
        "could not check: an answer of the cluster has an unexpected shape (AttributeError: 'str' object has no attribute 'get')"
    )
    assert found["gang-scheduling"]["message"].startswith("could not check: cannot list Deployments in kai-scheduler: not JSON")


def test_a_cluster_that_does_not_answer_skips_every_check_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay({("GET", "/version"): Answer(close=True)}) as replay:
        code, found = run(capsys, replay.kubeconfig(tmp_path), FLAGSHIP, "conformance")
        asked = len(replay.requests)
    assert code == 2
    assert {r["status"] for r in found.values()} == {"skipped"}
    assert found["dra-support"]["message"].startswith(f"could not check: cannot read the server version: cannot reach {replay.url}")
    assert asked <= 3  # the first request and the client's two retries of a dropped connection, not one a check


def test_the_table_says_a_reason_shared_by_every_check_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay({("GET", "/version"): Answer(close=True)}) as replay:
        code, out, _ = validate(capsys, str(FLAGSHIP), "--phase", "conformance", "--kubeconfig", str(replay.kubeconfig(tmp_path)))
    assert code == 2
    reasons = [line.strip() for line in out.splitlines() if line.startswith(" ")]
    assert reasons[0].startswith("could not check: cannot read the server version: cannot reach")
    assert reasons[1:] == ["(as above)"] * 7  # the flagship lists 8 conformance checks


def test_a_kubeconfig_that_cannot_be_read_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = validate(capsys, str(FLAGSHIP), "--phase", "conformance", "--kubeconfig", str(tmp_path / "missing"))
    assert (code, out) == (2, "")
    assert f"error[E0910]: Kubernetes: cannot read the kubeconfig {tmp_path / 'missing'}: no such file" in err and "Traceback" not in err


def test_a_check_aicrc_does_not_know_is_skipped(cluster: tuple[Replay, Path]) -> None:
    _, kubeconfig = cluster
    recipe = load_library(use_env=False).compile_file(FLAGSHIP).recipe
    recipe = recipe.model_copy(update={"checks": {"conformance": ["dra-support", "quantum-readiness"]}})
    phase = check_cluster("conformance", recipe, connect(Target(str(kubeconfig))), "replay")
    assert [(r.name, r.status) for r in phase.results] == [("dra-support", "passed"), ("quantum-readiness", "skipped")]
    assert phase.results[1].message.startswith("aicrc has no check named quantum-readiness")


def test_every_check_the_shipped_recipes_list_is_known() -> None:
    library = load_library(use_env=False)
    listed = {
        name
        for recipe in sorted((ROOT / "recipes").glob("*.aicr"))
        for phase, names in library.compile_file(recipe).recipe.checks.items()
        if phase != "performance"
        for name in names
    }
    assert listed == set(CHECKS)
    assert all(name in CHECKS_HELP for name in CHECKS)  # `aicrc validate --help` names each


# ---- reports ---------------------------------------------------------------------------------------


def test_ctrf_of_a_mixed_run_is_valid_and_junit_reads_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay(routes(degraded())) as replay:
        replay.routes[("GET", "/api/v1/nodes")] = forbidden("list", "nodes")
        kubeconfig = replay.kubeconfig(tmp_path)
        code, out, _ = validate(capsys, str(FLAGSHIP), "--phase", "conformance", "--kubeconfig", str(kubeconfig), "--format", "ctrf")
        assert code == 1
        report = valid_ctrf(out)
        summary = report["results"]["summary"]
        assert (summary["tests"], summary["passed"], summary["failed"], summary["skipped"]) == (8, 4, 3, 1)
        tests = {test["name"]: test for test in report["results"]["tests"]}
        assert tests["gpu-operator-health"]["suite"] == ["conformance"]
        assert "looked at: ClusterPolicy cluster-policy: state notReady" in tests["gpu-operator-health"]["stdout"]
        assert "extra" not in tests["gpu-operator-health"]  # it measures nothing the recipe bounds

        junit_file = tmp_path / "report.xml"
        code, out, _ = validate(
            capsys, str(FLAGSHIP), "--phase", "conformance", "--kubeconfig", str(kubeconfig), "--format", "junit", "-o", str(junit_file)
        )
    assert (code, out) == (1, "")
    suites = ElementTree.parse(junit_file).getroot()
    assert (suites.get("tests"), suites.get("failures"), suites.get("skipped")) == ("8", "3", "1")
    suite = suites.find("testsuite")
    assert suite is not None and suite.get("name") == "conformance"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    failure = cases["gpu-operator-health"].find("failure")
    assert failure is not None and failure.get("type") == "check" and "notReady" in (failure.get("message") or "")
    skipped = cases["cluster-autoscaling"].find("skipped")
    assert skipped is not None and "not allowed to list Nodes" in (skipped.get("message") or "")
    out_text = cases["dra-support"].findtext("system-out") or ""
    assert "looked at: ResourceSlices of driver gpu.nvidia.com: 2, 8 devices on 2 nodes" in out_text.splitlines()


def test_all_phases_run_what_the_inputs_allow_and_skip_the_rest_with_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)  # $KUBECONFIG would name a cluster
    code, out, _ = validate(capsys, str(H100_TRAINING), "--phase", "all", "--snapshot", str(H200), "--format", "json")
    report = json.loads(out)
    assert code == 2 and report["phase"] == "all"
    assert [phase["phase"] for phase in report["phases"]] == ["readiness", "deployment", "performance", "conformance"]
    by_phase: dict[str, set[str]] = defaultdict(set)
    for result in report["results"]:
        by_phase[result["phase"]].add(
            result["message"] if result["status"] == "skipped" and result["phase"] != "readiness" else result["status"]
        )
    assert by_phase["deployment"] == by_phase["conformance"] == {"not checked: no cluster given (--kubeconfig FILE or --context NAME)"}
    assert by_phase["performance"] == {
        "not measured: write the NCCL Job with --nccl-job FILE, run it, and give its first pod's log with --nccl-results FILE"
    }
    assert "passed" in by_phase["readiness"]


def test_all_phases_against_a_snapshot_a_cluster_and_an_nccl_run(cluster: tuple[Replay, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, kubeconfig = cluster
    arguments = [str(H100_TRAINING), "--phase", "all", "--snapshot", str(H200), "--kubeconfig", str(kubeconfig)]
    code, out, _ = validate(capsys, *arguments, "--nccl-results", str(NCCL / "all-reduce-h100-eks-efa.txt"))
    assert code == 2  # the node snapshot does not measure Kubernetes: readiness skips K8s.server.version
    blocks = out.split("\n\n")
    assert [block.split(":", 1)[0] for block in blocks] == ["readiness", "deployment", "performance", "conformance", "all phases"]
    assert "PASSED  nccl-all-reduce-bw  >= 300 GB/s  475.09 GB/s" in blocks[2]
    assert blocks[-1] == "all phases: 18 passed, 0 failed, 1 skipped\n"


# ---- performance: the NCCL Job and its results -----------------------------------------------------


def job_objects(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document]


@pytest.mark.parametrize(
    ("recipe", "gpus", "fabric", "image", "arch"),
    [
        (FLAGSHIP, "4", {"vpc.amazonaws.com/efa": "4"}, "public.ecr.aws/hpc-cloud/nccl-tests", "arm64"),
        (H100_TRAINING, "8", {"vpc.amazonaws.com/efa": "32"}, "public.ecr.aws/hpc-cloud/nccl-tests", "amd64"),
        (H100_AKS, "8", {"rdma/rdma_shared_device_a": "1"}, "nvcr.io/nvidia/pytorch", "amd64"),
    ],
    ids=["gb200-eks", "h100-eks", "h100-aks"],
)
def test_the_nccl_job_is_valid_kubernetes_for_the_recipes_accelerator(
    recipe: Path, gpus: str, fabric: dict[str, str], image: str, arch: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job_file = tmp_path / "nccl.yaml"
    code, out, _ = validate(
        capsys, str(recipe), "--phase", "performance", "--nccl-job", str(job_file), "--nccl-nodes", "3", "--format", "json"
    )
    assert code == (0 if recipe == FLAGSHIP else 2)  # the flagship lists no performance check; the others are not measured yet
    objects = job_objects(job_file)
    assert [o["kind"] for o in objects] == ["Secret", "Service", "Job"]
    for obj in objects:
        kubernetes_validate.validate(obj, "1.33", strict=True)
    secret, service, job = objects
    assert job_file.stat().st_mode & 0o077 == 0  # it holds a private key
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 3, 3)
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["resources"]["limits"] == container["resources"]["requests"] == {"nvidia.com/gpu": gpus, **fabric}
    assert container["image"].startswith(image) and pod["nodeSelector"]["kubernetes.io/arch"] == arch
    assert pod["subdomain"] == service["metadata"]["name"] and service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()
    env = {e["name"]: e["value"] for e in container["env"]}
    assert (env["NODES"], env["GPUS_PER_NODE"]) == ("3", gpus)
    subprocess.run(["bash", "-n", "-c", container["command"][2]], check=True)  # the script parses
    # the key pair is one: the authorized key is the private key's public half
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_ssh_private_key

    private = load_ssh_private_key(secret["stringData"]["id_ed25519"].encode(), password=None)
    public = private.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    assert secret["stringData"]["authorized_keys"].startswith(public)
    listed = json.loads(out)["results"]
    if recipe != FLAGSHIP:
        assert listed[0]["message"].startswith(f"not measured: run the Job written to {job_file}")


def test_kubernetes_validate_refuses_a_broken_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job_file = tmp_path / "nccl.yaml"
    validate(capsys, str(H100_TRAINING), "--phase", "performance", "--nccl-job", str(job_file))
    job = job_objects(job_file)[2]
    job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] = ["nvidia.com/gpu"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, "1.33", strict=True)


def test_no_job_for_gkes_tcpxo_and_at_least_two_nodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job_file = tmp_path / "nccl.yaml"
    code, _, err = validate(capsys, str(H100_GKE), "--phase", "performance", "--nccl-job", str(job_file))
    assert code == 2 and "error[E0921]: cannot write the NCCL Job for GKE's GPUDirect-TCPXO" in err and not job_file.exists()
    code, _, err = validate(capsys, str(H100_TRAINING), "--phase", "performance", "--nccl-job", str(job_file), "--nccl-nodes", "1")
    assert code == 2 and "at least 2" in err and not job_file.exists()
    code, _, err = validate(
        capsys, str(H100_TRAINING), "--snapshot", str(H200), "--nccl-results", str(NCCL / "all-reduce-h100-eks-efa.txt")
    )
    assert code == 2 and "--nccl-job and --nccl-results belong to --phase performance (or all)" in err


def test_a_run_over_efa_meets_the_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = validate(
        capsys, str(H100_TRAINING), "--phase", "performance", "--nccl-results", str(NCCL / "all-reduce-h100-eks-efa.txt")
    )
    assert code == 0
    assert out.splitlines()[1:] == [
        "STATUS  CHECK               EXPECTED     MEASURED",
        "PASSED  nccl-all-reduce-bw  >= 300 GB/s  475.09 GB/s",
        f"        looked at: {NCCL / 'all-reduce-h100-eks-efa.txt'}: 25 message sizes, 1 KiB to 16 GiB, 16 ranks",
        "        looked at: largest message 16 GiB: out-of-place bus bandwidth 475.09 GB/s (the measure)",
        "        looked at: # Avg bus bandwidth 213.37 GB/s (over every size, small ones too: shown, not judged)",
        "1 passed, 0 failed, 0 skipped",
    ]


def test_a_run_over_tcp_fails_the_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = validate(
        capsys,
        str(H100_TRAINING),
        "--phase",
        "performance",
        "--nccl-results",
        str(NCCL / "all-reduce-h100-eks-tcp.txt"),
        "--format",
        "json",
    )
    assert code == 1
    (result,) = json.loads(out)["results"]
    assert (result["actual"], result["message"]) == ("11.39 GB/s", "expected >= 300 GB/s, measured 11.39 GB/s")


def test_the_references_tolerance_is_named_when_it_would_have_passed() -> None:
    recipe = load_library(use_env=False).compile_file(H100_TRAINING).recipe
    text = (NCCL / "all-reduce-h100-eks-efa.txt").read_text(encoding="utf-8").replace("475.09", "281.30")
    from aicrc.cluster.nccl import check_performance

    (result,) = check_performance(recipe, parse_results(text, "r.txt"), "r.txt", "").results
    assert result.status == "failed" and "the reference passes a run within 10% of its threshold" in result.message


def test_wrong_values_fail_whatever_the_bandwidth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "wrong.txt"
    text = (NCCL / "all-reduce-h100-eks-efa.txt").read_text(encoding="utf-8")
    broken.write_text(text.replace("# Out of bounds values : 0 OK", "# Out of bounds values : 12 FAILED"), encoding="utf-8")
    code, out, _ = validate(capsys, str(H100_TRAINING), "--phase", "performance", "--nccl-results", str(broken), "--format", "json")
    assert code == 1
    assert json.loads(out)["results"][0]["message"] == "the all-reduce returned 12 wrong values: a run that corrupts data measures nothing"


def test_results_that_are_not_all_reduce_perf_output_are_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.txt"
    log.write_text(
        "mpirun: Error: unknown option\nssh: connect to host nccl-all-reduce-1.nccl-all-reduce port 2222: refused\n", encoding="utf-8"
    )
    code, out, err = validate(capsys, str(H100_TRAINING), "--phase", "performance", "--nccl-results", str(log))
    assert (code, out) == (2, "")
    assert f"error[E0920]: {log} holds no all_reduce_perf results" in err
    code, _, err = validate(capsys, str(H100_TRAINING), "--phase", "performance", "--nccl-results", str(tmp_path / "none.txt"))
    assert code == 2 and "error[E0104]: no such file" in err


def test_a_recipe_without_a_performance_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = validate(capsys, str(FLAGSHIP), "--phase", "performance", "--nccl-results", str(NCCL / "all-reduce-h100-eks-efa.txt"))
    assert code == 0
    assert out.splitlines()[1:] == ["the recipe lists no performance checks"]


# ---- the flagship, every phase ---------------------------------------------------------------------


def test_the_flagship_report(cluster: tuple[Replay, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """Readiness against the H200 node's snapshot, the other phases against the replayed cluster;
    the table is what the README shows."""
    _, kubeconfig = cluster
    code, out, _ = validate(capsys, str(FLAGSHIP), "--phase", "all", "--snapshot", str(H200), "--kubeconfig", str(kubeconfig))
    assert code == 2  # the node snapshot does not measure Kubernetes
    assert "the recipe lists no deployment checks" in out and "the recipe lists no performance checks" in out
    assert out.endswith("all phases: 11 passed, 0 failed, 1 skipped\n")


def test_each_check_alone_says_what_it_looked_at(cluster: tuple[Replay, Path]) -> None:
    """Each check runs alone, on a fresh view, and reports what it looked at."""
    _, kubeconfig = cluster
    recipe: CompiledRecipe = load_library(use_env=False).compile_file(H100_INFERENCE).recipe
    kube = connect(Target(str(kubeconfig)))
    for name in CHECKS:
        (result,) = check_cluster("conformance", recipe.model_copy(update={"checks": {"conformance": [name]}}), kube, "replay").results
        assert result.looked_at, name
