"""`aicrc snapshot` of a cluster: the K8s collectors through the real `kubernetes` client against
tests/kube_replay.py serving recorded object shapes (tests/fixtures/kube), every way the API can
fail (RBAC denial, a missing CRD, a slow or closed connection, no server, a broken kubeconfig),
and the SystemD collector on recorded `systemctl show` output (tests/fixtures/systemd).

Every request the client made is read-only: a snapshot never writes to the cluster."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aicrc.cli import main
from aicrc.cluster.collectors import CLUSTER_COLLECTORS, k8s_images, k8s_node, k8s_policy, systemd
from aicrc.cluster.collectors.base import SkipError, Sources
from aicrc.cluster.collectors.k8s_cluster import PAGE_SIZE, ClusterSource
from aicrc.cluster.collectors.node import NodeSource
from aicrc.cluster.kube import Target
from aicrc.cluster.read import read_snapshot
from aicrc.cluster.snapshot import Snapshot
from aicrc.cluster.snapshotter import take_snapshot
from tests.conftest import ROOT
from tests.kube_replay import Answer, Replay, forbidden

KUBE = ROOT / "tests" / "fixtures" / "kube"
SYSTEMD = ROOT / "tests" / "fixtures" / "systemd"
NODE = ROOT / "tests" / "fixtures" / "nodes" / "h200-ubuntu-24.04"
GPU_NODE, SYSTEM_NODE = "ip-10-0-141-27.ec2.internal", "ip-10-0-12-201.ec2.internal"

VERSION, NODES, PODS = "/version", "/api/v1/nodes", "/api/v1/pods"
POLICIES, SECRETS = "/apis/nvidia.com/v1/clusterpolicies", "/api/v1/secrets"


def recorded(name: str) -> Any:
    return json.loads((KUBE / name).read_text(encoding="utf-8"))


def cluster(**answers: Answer) -> dict[tuple[str, str], Answer]:
    """The recorded EKS cluster, with some answers replaced (keyed by VERSION, NODES, ... names)."""
    secrets = [recorded(f"helm-gpu-operator-v{revision}-secret.json") for revision in (1, 2)]
    routes = {
        VERSION: Answer(recorded("version-eks.json")),
        NODES: Answer(recorded("node-list-eks.json")),
        PODS: Answer(recorded("pods-all-namespaces.json")),
        POLICIES: Answer(recorded("clusterpolicy-list.json")),
        SECRETS: Answer({"kind": "SecretList", "apiVersion": "v1", "metadata": {}, "items": secrets}),
    }
    paths = {"version": VERSION, "nodes": NODES, "pods": PODS, "policies": POLICIES, "secrets": SECRETS}
    routes.update({paths[name]: answer for name, answer in answers.items()})
    return {("GET", path): answer for path, answer in routes.items()}


def snapshot_cli(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["snapshot", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def data(snapshot: Snapshot, name: str) -> dict[str, Any]:
    type_, subtype_name = name.split(".", 1)
    subtype = (snapshot.measurement(type_) or pytest.fail(f"no {type_}")).subtype(subtype_name)
    assert subtype is not None, name
    return dict(subtype.data)


def skipped(snapshot: Snapshot, name: str) -> str:
    type_, subtype_name = name.split(".", 1)
    subtype = (snapshot.measurement(type_) or pytest.fail(f"no {type_}")).subtype(subtype_name)
    assert subtype is not None and subtype.data == {}, name
    return subtype.skipped or ""


def assert_read_only(replay: Replay) -> None:
    assert replay.writes() == [] and {request.method for request in replay.requests} == {"GET"}


@pytest.fixture
def eks(no_ambient_cluster: Path) -> Iterator[Replay]:
    with Replay(cluster()) as replay:
        yield replay


# ---- a whole cluster -------------------------------------------------------------------------------


def test_a_cluster_snapshot_measures_the_server_images_policy_node_and_helm_releases(
    eks: Replay, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cluster.yaml"
    code, _, err = snapshot_cli(capsys, "--root", str(NODE), "--kubeconfig", str(eks.kubeconfig(tmp_path)), "-o", str(out))
    assert code == 0, err
    assert "K8s" not in err  # no K8s subtype was skipped
    snapshot = read_snapshot(out)
    assert [m.type for m in snapshot.measurements] == ["GPU", "OS", "SystemD", "K8s"]
    assert [s.name for s in (snapshot.measurement("K8s") or pytest.fail()).subtypes] == ["server", "image", "policy", "node", "helm"]
    assert data(snapshot, "K8s.server") == {"version": "v1.33.5-eks-3025e55", "platform": "linux/amd64", "goVersion": "go1.24.6"}
    assert data(snapshot, "K8s.image") == {
        "aws-network-policy-agent": "v1.2.5-eksbuild.1",
        "amazon-k8s-cni": "v1.20.1-eksbuild.1",
        "amazon-k8s-cni-init": "v1.20.1-eksbuild.1",
        "busybox": "latest",  # no tag
        "coredns": "v1.11.4-eksbuild.14",
        "dcgm-exporter": "4.4.1-4.6.0-ubuntu22.04",
        "driver": "580.105.08-ubuntu24.04",
        "gpu-operator": "v25.10.1",  # a container and two init containers
        "k8s-device-plugin": "v0.18.0",
        "k8s-driver-manager": "v0.9.0",
        "kube-proxy": "v1.33.3-minimal-eksbuild.6",
        "netshoot": "v0.13",  # an ephemeral container
        "node-feature-discovery": "v0.18.2",  # its digest dropped
    }
    policy = data(snapshot, "K8s.policy")
    assert (policy["driver.version"], policy["driver.enabled"], policy["mig.strategy"]) == ("580.105.08", "true", "single")
    assert policy["driver.upgradePolicy.maxParallelUpgrades"] == "5" and policy["driver.startupProbe.failureThreshold"] == "120"
    assert policy["toolkit.env"] == (
        '[{"name":"ACCEPT_NVIDIA_VISIBLE_DEVICES_ENVVAR_WHEN_UNPRIVILEGED","value":"false"},'
        '{"name":"ACCEPT_NVIDIA_VISIBLE_DEVICES_AS_VOLUME_MOUNTS","value":"true"}]'
    )
    assert policy["daemonsets.tolerations"] == '[{"effect":"NoSchedule","key":"nvidia.com/gpu","operator":"Exists"}]'
    assert "driver.imagePullSecrets" not in policy and not any(key.startswith("operator.initContainer") for key in policy)
    assert not any(key.startswith(("status", "metadata")) for key in policy)  # the spec only
    assert data(snapshot, "K8s.node") == {
        "source-node": GPU_NODE,  # the node of --root (`vm`) is not in the cluster: the GPU node, not the first by name
        "provider": "eks",
        "provider-id": "aws:///us-east-1a/i-0a1b2c3d4e5f67890",
        "container-runtime-id": "containerd://1.7.28",
        "container-runtime-name": "containerd",
        "container-runtime-version": "1.7.28",
        "kubelet-version": "v1.33.5-eks-113cf36",
        "kernel-version": "6.8.0-1036-aws",
        "operating-system": "linux",
        "os-image": "Ubuntu 24.04.3 LTS",
        "architecture": "amd64",
        "node-count": 2,
        "gpu-node-count": 1,
    }
    helm = data(snapshot, "K8s.helm")
    assert (helm["gpu-operator/gpu-operator.chart"], helm["gpu-operator/gpu-operator.version"]) == ("gpu-operator", "v25.10.1")
    assert (helm["gpu-operator/gpu-operator.status"], helm["gpu-operator/gpu-operator.revision"]) == ("deployed", 2)
    assert_read_only(eks)
    asked = {request.path: request.query for request in eks.requests}
    assert set(asked) == {VERSION, NODES, PODS, POLICIES, SECRETS}
    assert asked[NODES] == asked[PODS] == asked[POLICIES] == {"limit": [str(PAGE_SIZE)]}  # lists are paged
    assert asked[SECRETS] == {"labelSelector": ["owner=helm"]}


def test_compile_from_a_cluster_snapshot_selects_eks_by_the_nodes_provider_id(
    eks: Replay, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cluster.yaml"
    assert snapshot_cli(capsys, "--root", str(NODE), "--kubeconfig", str(eks.kubeconfig(tmp_path)), "-o", str(out))[0] == 0
    assert main(["compile", "--snapshot", str(out), "--intent", "training", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["metadata"]["criteria"] == {
        "service": "eks",
        "accelerator": "h200",
        "os": "ubuntu",
        "intent": "training",
        "platform": "kubeflow",
    }
    assert '  service = eks  from snapshot K8s.node.provider-id = "aws:///us-east-1a/i-0a1b2c3d4e5f67890"\n' in captured.err


# ---- one request fails: that subtype is skipped, the rest measured ---------------------------------


def test_rbac_denial_skips_that_subtype_with_the_servers_message(
    no_ambient_cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Replay(cluster(pods=forbidden("list", "pods"), secrets=forbidden("list", "secrets"))) as replay:
        out = tmp_path / "cluster.yaml"
        code, _, err = snapshot_cli(capsys, "--root", str(NODE), "--kubeconfig", str(replay.kubeconfig(tmp_path)), "-o", str(out))
    assert code == 0, err
    snapshot = read_snapshot(out)
    denied = (
        'cannot list pods in all namespaces: HTTP 403: pods is forbidden: User "system:serviceaccount:default:reader"'
        ' cannot list resource "pods" in API group "" at the cluster scope'
    )
    assert skipped(snapshot, "K8s.image") == denied
    assert skipped(snapshot, "K8s.helm").startswith("cannot list Helm release Secrets: HTTP 403: secrets is forbidden:")
    assert f"note: K8s.image skipped: {denied}\n" in err
    assert data(snapshot, "K8s.node")["provider"] == "eks" and data(snapshot, "K8s.policy")["driver.version"] == "580.105.08"
    assert_read_only(replay)


def test_a_cluster_without_the_gpu_operator_skips_the_policy_as_not_installed(
    no_ambient_cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An API group nobody serves: the API server's mux answers in plain text, not with a Status.
    with Replay(cluster(policies=Answer(b"404 page not found\n", status=404))) as replay:
        out = tmp_path / "cluster.yaml"
        code, _, err = snapshot_cli(capsys, "--root", str(NODE), "--kubeconfig", str(replay.kubeconfig(tmp_path)), "-o", str(out))
    assert code == 0, err
    snapshot = read_snapshot(out)
    assert skipped(snapshot, "K8s.policy") == "the GPU Operator's ClusterPolicy API (nvidia.com/v1 clusterpolicies) is not installed"
    assert data(snapshot, "K8s.server")["version"] == "v1.33.5-eks-3025e55"


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (Answer(recorded("pods-all-namespaces.json"), delay=3), "cannot list pods in all namespaces: no answer from {url} within 0.5 s"),
        (Answer(close=True), "cannot list pods in all namespaces: cannot reach {url}: "),
        (Answer(["not", "an", "object"]), "cannot list pods in all namespaces: a JSON list, not an object"),
        (Answer({"items": {"a": 1}}), "cannot list pods in all namespaces: the answer's `items` is not a list"),
    ],
    ids=["slow", "closed", "a-list", "items-not-a-list"],
)
def test_a_request_that_times_out_or_is_cut_or_malformed_skips_that_subtype(
    answer: Answer, why: str, no_ambient_cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Replay(cluster(pods=answer)) as replay:
        out = tmp_path / "cluster.yaml"
        started = time.monotonic()
        code, _, err = snapshot_cli(
            capsys, "--root", str(NODE), "--kubeconfig", str(replay.kubeconfig(tmp_path)), "--request-timeout", "0.5", "-o", str(out)
        )
        assert time.monotonic() - started < 3  # the slow answer was not waited for
        url = replay.url
    assert code == 0, err
    snapshot = read_snapshot(out)
    assert skipped(snapshot, "K8s.image").startswith(why.format(url=url))
    assert data(snapshot, "K8s.node")["source-node"] == GPU_NODE


def test_a_list_is_read_page_by_page_and_a_server_that_never_ends_it_is_cut_off(no_ambient_cluster: Path) -> None:
    endless = recorded("node-list-eks.json") | {"metadata": {"continue": "page-2"}}
    with Replay(cluster(nodes=Answer(endless))) as replay:
        source = ClusterSource.connect(Target(kubeconfig=str(replay.kubeconfig(no_ambient_cluster))))
        with pytest.raises(SkipError) as caught:
            k8s_node.collect(Sources(NodeSource(NODE), source))
    assert str(caught.value) == "cannot list nodes: the API server repeated the continue token 'page-2'"
    pages = [request.query for request in replay.requests if request.path == NODES]
    assert pages == [{"limit": ["500"]}, {"limit": ["500"], "continue": ["page-2"]}]


# ---- the cluster cannot be measured at all ---------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def kubeconfig_for(folder: Path, server: str) -> Path:
    path = folder / "kubeconfig"
    path.write_text(
        textwrap.dedent(f"""\
            apiVersion: v1
            kind: Config
            clusters: [{{name: c, cluster: {{server: "{server}"}}}}]
            users: [{{name: u, user: {{token: t}}}}]
            contexts: [{{name: c, context: {{cluster: c, user: u}}}}]
            current-context: c
        """),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("output_format", ["yaml", "json"])
def test_an_unreachable_cluster_named_on_the_command_line_is_an_error(
    output_format: str, no_ambient_cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = f"http://127.0.0.1:{closed_port()}"
    out = tmp_path / "snap.yaml"
    arguments = ("--root", str(NODE), "--kubeconfig", str(kubeconfig_for(tmp_path, server)), "--format", output_format, "-o", str(out))
    code, stdout, err = snapshot_cli(capsys, *arguments)
    assert code == 2 and not out.exists() and "Traceback" not in err
    if output_format == "json":
        (error,) = json.loads(stdout)["errors"]
        assert error["code"] == "E0910" and error["message"].startswith(
            f"Kubernetes: cannot read the API server's version: cannot reach {server}"
        )
    else:
        assert "error[E0910]: Kubernetes: cannot read the API server's version: cannot reach" in err
        assert "check that the API server in the kubeconfig is reachable from here" in err


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(close=True), "cannot read the API server's version: cannot reach"),
        (Answer({}, delay=3), "cannot read the API server's version: no answer from"),
        (Answer({"kind": "Status", "message": "Unauthorized", "code": 401}, status=401), "HTTP 401: Unauthorized"),
    ],
    ids=["closed", "silent", "credentials-refused"],
)
def test_a_named_cluster_that_closes_is_silent_or_refuses_us_is_an_error(
    answer: Answer, message: str, no_ambient_cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "snap.yaml"
    with Replay(cluster(version=answer)) as replay:
        kubeconfig = str(replay.kubeconfig(tmp_path))
        code, _, err = snapshot_cli(capsys, "--root", str(NODE), "--kubeconfig", kubeconfig, "--request-timeout", "0.5", "-o", str(out))
    assert code == 2 and not out.exists() and "Traceback" not in err
    assert "error[E0910]" in err and message in err
    assert [request.path for request in replay.requests if request.path != VERSION] == []  # it stopped at the first request


@pytest.mark.parametrize(
    ("kubeconfig", "context", "message"),
    [
        ("clusters: [unclosed\n", None, "Kubernetes: cannot read the kubeconfig"),
        ("just a sentence\n", None, "Kubernetes: cannot read the kubeconfig"),
        (None, "nowhere", "Kubernetes: cannot read the kubeconfig"),
        ("missing", None, "Kubernetes: cannot read the kubeconfig"),
    ],
    ids=["not-yaml", "not-a-kubeconfig", "missing-context", "missing-file"],
)
def test_a_broken_kubeconfig_is_an_error_with_a_hint(
    kubeconfig: str | None, context: str | None, message: str, no_ambient_cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "snap.yaml"
    with Replay(cluster()) as replay:
        path = replay.kubeconfig(tmp_path)
        if kubeconfig == "missing":
            path = tmp_path / "no-such-kubeconfig"
        elif kubeconfig is not None:
            path.write_text(kubeconfig, encoding="utf-8")
        arguments = ["--root", str(NODE), "--kubeconfig", str(path), "-o", str(out)] + (["--context", context] if context else [])
        code, _, err = snapshot_cli(capsys, *arguments)
    assert code == 2 and not out.exists() and "Traceback" not in err
    assert f"error[E0910]: {message} {path}" in err
    assert "give --kubeconfig FILE (and --context NAME), or set KUBECONFIG" in err
    assert replay.requests == []


# ---- which cluster, if any ------------------------------------------------------------------------


def test_a_root_snapshot_never_talks_to_the_ambient_cluster(
    eks: Replay, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(eks.kubeconfig(tmp_path)))
    out = tmp_path / "snap.yaml"
    code, _, err = snapshot_cli(capsys, "--root", str(NODE), "-o", str(out))
    assert code == 0 and eks.requests == []
    why = "--root measures a tree copied from a node; give --kubeconfig to measure its cluster too"
    assert f"note: K8s.server, K8s.image, K8s.policy, K8s.node, K8s.helm skipped: {why}\n" in err
    assert skipped(read_snapshot(out), "K8s.node") == why


def test_no_kubernetes_measures_the_node_alone(
    eks: Replay, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(eks.kubeconfig(tmp_path)))
    out = tmp_path / "snap.yaml"
    assert snapshot_cli(capsys, "--no-kubernetes", "--root", str(NODE), "-o", str(out))[0] == 0
    assert eks.requests == [] and skipped(read_snapshot(out), "K8s.server") == "not measured (--no-kubernetes)"
    code, _, err = snapshot_cli(capsys, "--no-kubernetes", "--kubeconfig", str(eks.kubeconfig(tmp_path)))
    assert code == 2 and "--no-kubernetes measures no cluster: leave out --kubeconfig and --context" in err
    code, _, err = snapshot_cli(capsys, "--root", str(NODE), "--request-timeout", "0")
    assert code == 2 and "--request-timeout 0: must be more than 0 seconds" in err


def test_an_ambient_cluster_that_cannot_be_reached_is_noted_not_an_error(
    no_ambient_cluster: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """$KUBECONFIG names a cluster nobody asked this snapshot of the node about: it still succeeds."""
    server = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_for(tmp_path, server)))
    out = tmp_path / "live.yaml"
    code, _, err = snapshot_cli(capsys, "-o", str(out))
    assert code == 0, err
    why = skipped(read_snapshot(out), "K8s.server")
    assert why.startswith(f"cannot read the API server's version: cannot reach {server}")
    assert f"note: K8s.server, K8s.image, K8s.policy, K8s.node, K8s.helm skipped: {why}\n" in err


def test_the_ambient_kubeconfig_is_used_when_none_is_named(
    eks: Replay, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kube_folder = Path(os.environ["HOME"]) / ".kube"
    kube_folder.mkdir()
    eks.kubeconfig(kube_folder, name="config")
    out = tmp_path / "live.yaml"
    assert snapshot_cli(capsys, "-o", str(out))[0] == 0
    assert data(read_snapshot(out), "K8s.server")["version"] == "v1.33.5-eks-3025e55"
    assert_read_only(eks)


def test_a_node_snapshot_without_a_cluster_never_imports_the_kubernetes_client(tmp_path: Path) -> None:
    """No kubeconfig anywhere: the K8s subtypes say so, and `kubernetes` (a second of imports) stays unloaded."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")} | {"HOME": str(home)}
    program = textwrap.dedent(f"""
        import sys
        from aicrc.cli import main
        assert main(["snapshot", "-o", {str(tmp_path / "live.yaml")!r}]) == 0
        assert main(["snapshot", "--root", {str(NODE)!r}, "-o", {str(tmp_path / "root.yaml")!r}]) == 0
        print("kubernetes" in sys.modules, "urllib3" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False False\n"
    why = "no cluster: no --kubeconfig, $KUBECONFIG or ~/.kube/config, and not in a pod"
    assert skipped(read_snapshot(tmp_path / "live.yaml"), "K8s.node") == why


# ---- K8s.node: which node, and its readings --------------------------------------------------------


def tree_named(folder: Path, hostname: str) -> NodeSource:
    (folder / "proc" / "sys" / "kernel").mkdir(parents=True)
    (folder / "proc" / "sys" / "kernel" / "hostname").write_text(hostname + "\n", encoding="utf-8")
    return NodeSource(folder)


def cluster_snapshot(replay: Replay, node: NodeSource, folder: Path) -> Snapshot:
    source = ClusterSource.connect(Target(kubeconfig=str(replay.kubeconfig(folder))))
    return take_snapshot(Sources(node, source), CLUSTER_COLLECTORS)


def test_the_snapshots_own_node_is_measured_when_it_is_in_the_cluster(eks: Replay, tmp_path: Path) -> None:
    snapshot = cluster_snapshot(eks, tree_named(tmp_path / "tree", SYSTEM_NODE), tmp_path)
    node = data(snapshot, "K8s.node")
    assert (node["source-node"], node["os-image"], node["kubelet-version"]) == (
        SYSTEM_NODE,
        "Amazon Linux 2023.8.20250818",
        "v1.33.4-eks-e386d34",
    )
    assert snapshot.metadata["source-node"] == SYSTEM_NODE


def test_on_a_live_node_the_downward_apis_node_name_chooses(eks: Replay, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOSTNAME", "aicrc-agent-x7k2p")  # in a pod, the pod's name
    monkeypatch.setenv("NODE_NAME", SYSTEM_NODE)
    assert data(cluster_snapshot(eks, NodeSource(), tmp_path), "K8s.node")["source-node"] == SYSTEM_NODE


def test_without_a_gpu_node_the_first_node_by_name_is_measured(no_ambient_cluster: Path, tmp_path: Path) -> None:
    nodes = recorded("node-list-eks.json")
    gpu = next(node for node in nodes["items"] if node["metadata"]["name"] == GPU_NODE)
    del gpu["status"]["capacity"]["nvidia.com/gpu"], gpu["status"]["allocatable"]["nvidia.com/gpu"]
    assert k8s_node.is_gpu_node(gpu)  # still labelled by GPU feature discovery
    del gpu["metadata"]["labels"]["nvidia.com/gpu.present"]
    nodes["items"].reverse()  # the API server's order does not choose
    with Replay(cluster(nodes=Answer(nodes))) as replay:
        node = data(cluster_snapshot(replay, tree_named(tmp_path / "tree", "elsewhere"), tmp_path), "K8s.node")
    assert (node["source-node"], node["node-count"], node["gpu-node-count"]) == (SYSTEM_NODE, 2, 0)


def test_a_cluster_without_nodes_skips_the_node(no_ambient_cluster: Path, tmp_path: Path) -> None:
    with Replay(cluster(nodes=Answer({"kind": "NodeList", "items": []}))) as replay:
        assert skipped(cluster_snapshot(replay, NodeSource(NODE), tmp_path), "K8s.node") == "the cluster has no nodes"


@pytest.mark.parametrize(
    ("provider_id", "provider"),
    [
        ("aws:///us-west-2a/i-0123456789abcdef0", "eks"),
        ("gce://my-project/us-central1-a/gke-cluster-default-pool-node-abc123", "gke"),
        ("azure:///subscriptions/1234/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/aks-np-0", "aks"),
        ("oci://ocid1.instance.oc1.phx.abcdef123456", "oke"),
        ("kind://docker/kind/kind-worker", "kind"),
        ("custom-provider://some-id", "custom-provider"),
        ("just-a-string", "just-a-string"),
        ("AWS:///us-west-2a/i-abc123", "eks"),
        (" gce ://project/zone/node", "gke"),
    ],
)
def test_the_provider_is_named_from_the_provider_id_as_the_reference_names_it(provider_id: str, provider: str) -> None:
    readings = k8s_node.readings({"metadata": {"name": "n"}, "spec": {"providerID": provider_id}})
    assert readings == {"source-node": "n", "provider": provider, "provider-id": provider_id}


def test_node_fields_of_the_wrong_shape_read_as_absent() -> None:
    hostile: dict[str, Any] = {
        "metadata": {"name": 5, "labels": ["nvidia.com/gpu.present"]},
        "spec": {"providerID": None},
        "status": {"capacity": {"nvidia.com/gpu": "9" * 5000}, "allocatable": {"nvidia.com/gpu": "8.5"}, "nodeInfo": "linux"},
    }
    assert k8s_node.readings(hostile) == {"source-node": ""} and not k8s_node.is_gpu_node(hostile)
    assert k8s_node.readings({"status": {"nodeInfo": {"containerRuntimeVersion": "cri-o"}}}) == {
        "source-node": "",
        "container-runtime-id": "cri-o",
    }


# ---- K8s.image and K8s.policy, as the reference reads them ------------------------------------------


@pytest.mark.parametrize(
    ("image", "name", "tag"),
    [
        ("registry.k8s.io/pause:3.9", "pause", "3.9"),
        ("docker.io/library/nginx:latest", "nginx", "latest"),
        ("ghcr.io/org/image:v1.0", "image", "v1.0"),
        ("nginx", "nginx", "latest"),
        ("image:v1.0@sha256:abc123", "image", "v1.0"),
        ("registry.k8s.io/node-role-controller:v0.5.0@sha256:3456", "node-role-controller", "v0.5.0"),
        ("localhost:5000/tools/probe", "probe", "latest"),  # the registry's port is not a tag
    ],
)
def test_image_names_and_tags(image: str, name: str, tag: str) -> None:
    assert k8s_images.name_and_tag(image) == (name, tag)


def test_images_of_pods_of_any_shape() -> None:
    pods: list[object] = [
        {"spec": {"containers": [{"image": "repo/image:tag"}], "initContainers": [{"image": "repo/init:latest"}]}},
        {"spec": {"containers": [{"image": ""}, {"image": 7}, "x"], "initContainers": None}},
        "not a pod",
        {"spec": {"containers": [{"image": "repo/image:v2"}]}},  # a later pod's tag wins, as in the reference
    ]
    assert k8s_images.readings(pods) == {"image": "v2", "init": "latest"}


@pytest.mark.parametrize(
    ("spec", "readings"),
    [
        ({"version": "550.54.15"}, {"version": "550.54.15"}),
        ({"driver": {"version": "580.82.07", "enabled": True}}, {"driver.version": "580.82.07", "driver.enabled": "true"}),
        ({"ratio": 3.14, "count": 42, "whole": 1.0, "big": 1e21}, {"ratio": "3.14", "count": "42", "whole": "1", "big": "1e+21"}),
        ({"items": ["a", "b", "c"]}, {"items": '["a","b","c"]'}),
        ({"items": [], "map": {}, "unset": None}, {}),
        ({"a": {"b": {"c": "deep"}}}, {"a.b.c": "deep"}),
        ({"env": [{"value": "<a&b>", "name": "X", "n": 2.0}]}, {"env": '[{"n":2,"name":"X","value":"\\u003ca\\u0026b\\u003e"}]'}),
    ],
    ids=["string", "nested", "numbers", "list", "empty-and-null", "deep", "go-json"],
)
def test_the_policy_spec_is_flattened_as_the_reference_flattens_it(spec: dict[str, Any], readings: dict[str, str]) -> None:
    assert k8s_policy.flatten(spec) == readings


def test_a_spec_nested_deeper_than_the_recursion_limit_is_flattened() -> None:
    spec: dict[str, Any] = {"leaf": "x"}
    for _ in range(sys.getrecursionlimit() + 100):
        spec = {"k": spec}
    (key,) = k8s_policy.flatten(spec)
    assert key.endswith("k.leaf") and key.count(".") == sys.getrecursionlimit() + 100


def test_a_spec_nested_past_any_real_one_is_skipped(no_ambient_cluster: Path, tmp_path: Path) -> None:
    deep: list[Any] = []
    for _ in range(k8s_policy.MAX_DEPTH):
        deep = [deep]
    with Replay(cluster(policies=Answer({"items": [{"spec": {"driver": {"args": deep}}}]}))) as replay:
        snapshot = cluster_snapshot(replay, NodeSource(NODE), tmp_path)
    assert skipped(snapshot, "K8s.policy") == "a ClusterPolicy's spec nests more than 100 levels: not the GPU Operator's"


def test_several_policies_write_one_subtype_and_the_later_one_wins(no_ambient_cluster: Path, tmp_path: Path) -> None:
    first = recorded("clusterpolicy-list.json")["items"][0]
    second = {"metadata": {"name": "z-policy"}, "spec": {"driver": {"version": "590.0.0"}}}
    without_spec = {"metadata": {"name": "no-spec"}}
    with Replay(cluster(policies=Answer({"items": [first, without_spec, second]}))) as replay:
        policy = data(cluster_snapshot(replay, NodeSource(NODE), tmp_path), "K8s.policy")
    assert policy["driver.version"] == "590.0.0" and policy["mig.strategy"] == "single"


# ---- SystemD ---------------------------------------------------------------------------------------


def systemctl_output(name: str) -> str:
    return (SYSTEMD / name).read_text(encoding="utf-8")


def test_containerds_unit_as_systemctl_shows_it() -> None:
    assert systemd.readings(systemctl_output("systemctl-show-containerd.service.txt"), "containerd.service") == {
        "LoadState": "loaded",
        "ActiveState": "active",
        "SubState": "running",
        "UnitFileState": "enabled",
        "FragmentPath": "/usr/lib/systemd/system/containerd.service",
        "Type": "notify",
        "Restart": "always",
        "KillMode": "process",
        "Delegate": "yes",
        "Slice": "system.slice",
        "CPUAccounting": "yes",
        "MemoryAccounting": "yes",
        "TasksAccounting": "yes",
        "MemoryMax": "infinity",
        "TasksMax": "infinity",
        "LimitNOFILE": "524288",
        "LimitNPROC": "infinity",
        "LimitMEMLOCK": "8388608",
        "LimitCORE": "infinity",
        "OOMScoreAdjust": "-999",
        "Requires": "system.slice sysinit.target",
        "After": "basic.target system.slice sysinit.target dbus.service local-fs.target network.target systemd-journald.socket",
        "Before": "multi-user.target shutdown.target",
        "ProtectSystem": "no",
        "PrivateTmp": "no",
        "NoNewPrivileges": "no",
    }


def test_the_kubelets_drop_in_is_read_and_its_environment_is_not() -> None:
    readings = systemd.readings(systemctl_output("systemctl-show-kubelet.service.txt"), "kubelet.service")
    assert readings["DropInPaths"] == "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"
    assert (readings["Type"], readings["KillMode"], readings["Wants"]) == ("simple", "control-group", "network-online.target")
    assert set(readings) <= set(systemd.PROPERTIES)  # no Environment, ExecStart, MainPID, timestamps or counters
    assert not any(str(value).startswith("{") for value in readings.values())


def test_a_unit_that_is_not_installed_reads_not_found() -> None:
    readings = systemd.readings(systemctl_output("systemctl-show-absent.service.txt"), "kubelet.service")
    assert (readings["LoadState"], readings["ActiveState"], readings["SubState"]) == ("not-found", "inactive", "dead")


@pytest.mark.parametrize("output", ["", "<html>502 Bad Gateway</html>\n", "Id=containerd.service\nEnvironment=A=1\n", "LoadState=\n"])
def test_output_that_is_not_systemctls_is_skipped(output: str) -> None:
    with pytest.raises(SkipError) as caught:
        systemd.readings(output, "containerd.service")
    assert (
        str(caught.value)
        == "not the output of systemctl show containerd.service: none of its lines is LoadState=, ActiveState= or the like"
    )


def test_a_root_tree_reads_the_recorded_systemctl_output(tmp_path: Path) -> None:
    (tmp_path / "commands").mkdir()
    shutil.copy(SYSTEMD / "systemctl-show-containerd.service.txt", tmp_path / "commands")
    snapshot = take_snapshot(Sources(NodeSource(tmp_path)), systemd.COLLECTORS)
    assert data(snapshot, "SystemD.containerd.service")["Delegate"] == "yes"
    assert (
        skipped(snapshot, "SystemD.kubelet.service") == f"{tmp_path.as_posix()}/commands/systemctl-show-kubelet.service.txt: no such file"
    )


def fake_systemctl(folder: Path, body: str) -> None:
    folder.mkdir()
    script = folder / "systemctl"
    script.write_text(f'#!/bin/sh\necho "$@" >> {folder / "calls"}\n{body}\n', encoding="utf-8")
    script.chmod(0o755)


def test_a_live_node_runs_systemctl_show_for_each_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_folder = tmp_path / "bin"
    fake_systemctl(
        bin_folder,
        f'case "$2" in containerd.service) cat {SYSTEMD / "systemctl-show-containerd.service.txt"};; '
        f"*) cat {SYSTEMD / 'systemctl-show-absent.service.txt'};; esac",
    )
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    snapshot = take_snapshot(Sources(NodeSource()), systemd.COLLECTORS)
    assert data(snapshot, "SystemD.containerd.service")["OOMScoreAdjust"] == "-999"
    assert data(snapshot, "SystemD.kubelet.service")["LoadState"] == "not-found"
    assert (bin_folder / "calls").read_text(encoding="utf-8") == "show containerd.service\nshow kubelet.service\n"


def test_a_node_without_systemd_skips_with_systemctls_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_folder = tmp_path / "bin"
    fake_systemctl(bin_folder, 'echo "System has not been booted with systemd as init system (PID 1). Can\'t operate." >&2; exit 1')
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    snapshot = take_snapshot(Sources(NodeSource()), systemd.COLLECTORS)
    assert skipped(snapshot, "SystemD.containerd.service") == (
        "systemctl show containerd.service failed (exit 1): System has not been booted with systemd as init system (PID 1). Can't operate."
    )
