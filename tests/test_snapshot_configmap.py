"""Snapshots kept in a ConfigMap, `cm://NAMESPACE/NAME`: `aicrc snapshot -o cm://` applies one as the
reference stores a snapshot, every `--snapshot` reads one back, through the real `kubernetes` client
against tests/kube_replay.py. A ConfigMap the reference's own binary wrote reads (a recorded one
always; a fresh one, and the other way round, with AICR_BIN naming the reference's `aicr`).

A ConfigMap that names nothing, is missing, is refused by RBAC, holds no snapshot, or holds a
hostile one: a clear error, never a traceback, and nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from aicrc import diagnostics as diag
from aicrc.cli import main
from aicrc.cluster.kube import APPLY_PATCH, Target
from aicrc.cluster.read import MAX_SNAPSHOT_BYTES, parse_snapshot, read_snapshot
from aicrc.cluster.storage import (
    MAX_CONFIGMAP_BYTES,
    ConfigMapRef,
    configmap_object,
    connect,
    parse_configmap_uri,
    read_snapshot_from,
    write_configmap,
)
from aicrc.cluster.write import render
from tests.conftest import ROOT
from tests.kube_replay import Answer, Replay, forbidden

KUBE = ROOT / "tests" / "fixtures" / "kube"
NODE = ROOT / "tests" / "fixtures" / "nodes" / "h200-ubuntu-24.04"
H200 = ROOT / "tests" / "fixtures" / "snapshots" / "h200-ubuntu-24.04.yaml"
REFERENCE_SNAPSHOT = ROOT / "tests" / "fixtures" / "snapshots" / "aicr-v0.11.1-no-gpu-debian-12.yaml"
AICR_BIN = os.environ.get("AICR_BIN", "")
needs_reference = pytest.mark.skipif(not AICR_BIN, reason="AICR_BIN does not name the reference's aicr binary")

CONFIGMAPS = "/api/v1/namespaces/gpu-operator/configmaps"
H200_PATH = f"{CONFIGMAPS}/h200"


def recorded(name: str) -> Any:
    return json.loads((KUBE / name).read_text(encoding="utf-8"))


def api_server() -> dict[tuple[str, str], Answer]:
    """Enough of a cluster for a snapshot to name it: its version (the K8s collectors' other reads 404, and are skipped)."""
    return {("GET", "/version"): Answer(recorded("version-eks.json"))}


def configmap(data: object) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "h200", "namespace": "gpu-operator"}, "data": data}


pytestmark = pytest.mark.usefixtures("no_ambient_cluster")  # the cluster only where a test names one


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def failure(replay: Replay, where: str) -> diag.Diagnostic:
    with pytest.raises(diag.AicrcError) as caught:
        read_snapshot_from(where, Target(kubeconfig=str(replay.kubeconfig(Path(os.environ["HOME"])))))
    return caught.value.diagnostics[0]


# ---- the URI --------------------------------------------------------------------------------------


def test_a_configmap_uri_names_a_namespace_and_a_name() -> None:
    assert parse_configmap_uri("cm://gpu-operator/aicr-snapshot") == ConfigMapRef("gpu-operator", "aicr-snapshot")
    assert parse_configmap_uri("cm://default/snapshot.h200.v1").uri == "cm://default/snapshot.h200.v1"


@pytest.mark.parametrize(
    ("uri", "said"),
    [
        ("cm://gpu-operator", "expected cm://NAMESPACE/NAME"),
        ("cm:///aicr-snapshot", "the namespace '' is not"),
        ("cm://GPU_Operator/aicr-snapshot", "the namespace 'GPU_Operator' is not"),
        (f"cm://{'n' * 64}/aicr-snapshot", "is not a Kubernetes namespace name"),
        ("cm://gpu-operator/", "the name '' is not a ConfigMap name"),
        ("cm://gpu-operator/a/b", "the name 'a/b' is not"),
        ("cm://gpu-operator/-snapshot", "the name '-snapshot' is not"),
        ("cm://gpu-operator/a..b", "the name 'a..b' is not"),
    ],
)
def test_a_uri_that_names_no_configmap_says_why(uri: str, said: str) -> None:
    with pytest.raises(diag.AicrcError) as caught:
        parse_configmap_uri(uri)
    (problem,) = caught.value.diagnostics
    assert problem.code == "E0915"
    assert said in problem.message
    assert problem.help is not None and "cm://NAMESPACE/NAME" in problem.help


# ---- writing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["yaml", "json"])
def test_the_configmap_is_a_valid_object_keyed_as_the_reference_keys_it(output_format: str) -> None:
    snapshot = read_snapshot(H200)
    body = configmap_object(ConfigMapRef("gpu-operator", "h200"), snapshot, output_format)  # type: ignore[arg-type]
    kubernetes_validate.validate(body, "1.30", strict=True)
    assert body["metadata"] == {
        "name": "h200",
        "namespace": "gpu-operator",
        "labels": {"app.kubernetes.io/name": "aicrc", "app.kubernetes.io/component": "Snapshot", "app.kubernetes.io/version": "0.1.0"},
    }
    assert body["data"] == {
        f"snapshot.{output_format}": render(snapshot, output_format),
        "format": output_format,
        "timestamp": snapshot.metadata["timestamp"],
    }


def test_snapshot_o_cm_applies_the_configmap_and_every_snapshot_option_reads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay(api_server()) as replay:
        kubeconfig = str(replay.kubeconfig(tmp_path))
        code, out, err = run(capsys, "snapshot", "--root", str(NODE), "--kubeconfig", kubeconfig, "-o", "cm://gpu-operator/h200")
        assert code == 0, err
        assert out == ""
        (write,) = replay.writes()
        assert (write.method, write.path, write.content_type) == ("PATCH", H200_PATH, APPLY_PATCH)
        assert write.query == {"fieldManager": ["aicrc"], "force": ["true"]}
        written = parse_snapshot(write.body["data"]["snapshot.yaml"], "written")
        assert write.body == configmap_object(ConfigMapRef("gpu-operator", "h200"), written, "yaml")
        assert written.metadata["source-root"] == str(NODE)

        # compile, explain, query, stats and validate all read --snapshot cm:// as they read a file.
        from_file = tmp_path / "h200.yaml"
        from_file.write_text(write.body["data"]["snapshot.yaml"], encoding="utf-8")
        code, by_configmap, err = run(
            capsys, "compile", "--snapshot", "cm://gpu-operator/h200", "--kubeconfig", kubeconfig, "--intent", "training"
        )
        assert code == 0, err
        assert "note: criteria from the snapshot cm://gpu-operator/h200" in err
        code, by_file, _ = run(capsys, "compile", "--snapshot", str(from_file), "--intent", "training")
        assert code == 0 and by_configmap == by_file
        for command in (["explain", "gpu-operator.driver"], ["query", "components.gpu-operator.chart.version"], ["stats"]):
            code, _, err = run(capsys, *command, "--snapshot", "cm://gpu-operator/h200", "--kubeconfig", kubeconfig, "--intent", "training")
            assert code == 0, (command, err)
        _, report, err = run(capsys, "validate", "--snapshot", "cm://gpu-operator/h200", "--kubeconfig", kubeconfig, "--intent", "training")
        assert "error[" not in err and "OS.release.ID" in report, err
        assert [r.method for r in replay.requests if r.path == H200_PATH] == ["PATCH"] + ["GET"] * 5


def test_json_is_stored_under_snapshot_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay(api_server()) as replay:
        kubeconfig = str(replay.kubeconfig(tmp_path))
        code, _, err = run(
            capsys, "snapshot", "--root", str(NODE), "--kubeconfig", kubeconfig, "-o", "cm://gpu-operator/h200", "--format", "json"
        )
        assert code == 0, err
        (write,) = replay.writes()
        assert sorted(write.body["data"]) == ["format", "snapshot.json", "timestamp"]
        assert write.body["data"]["format"] == "json"
        assert read_snapshot_from("cm://gpu-operator/h200", Target(kubeconfig=kubeconfig)).metadata["source-root"] == str(NODE)


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--format", "table"], "not a table"),
        (["--no-kubernetes"], "--no-kubernetes forbids"),
    ],
)
def test_a_configmap_output_the_command_line_contradicts_is_a_usage_error(
    arguments: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Replay(api_server()) as replay:
        code, out, err = run(capsys, "snapshot", "--root", str(NODE), "-o", "cm://gpu-operator/h200", *arguments)
        assert (code, out) == (2, "")
        assert said in err
        assert replay.requests == []


def test_a_bad_configmap_uri_is_refused_before_anything_is_measured(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay(api_server()) as replay:
        kubeconfig = str(replay.kubeconfig(tmp_path))
        code, out, err = run(capsys, "snapshot", "--root", str(NODE), "--kubeconfig", kubeconfig, "-o", "cm://GPU/h200")
        assert (code, out) == (2, "")
        assert "error[E0915]: cm://GPU/h200: not a ConfigMap URI" in err
        assert replay.requests == []


def test_rbac_refusing_the_write_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes = {**api_server(), ("PATCH", H200_PATH): forbidden("patch", "configmaps", namespace="gpu-operator")}
    with Replay(routes) as replay:
        kubeconfig = str(replay.kubeconfig(tmp_path))
        code, out, err = run(capsys, "snapshot", "--root", str(NODE), "--kubeconfig", kubeconfig, "-o", "cm://gpu-operator/h200")
        assert (code, out) == (2, "")
        assert "error[E0910]: Kubernetes: cannot write the ConfigMap gpu-operator/h200: HTTP 403: configmaps is forbidden" in err
        assert "lacks the RBAC permission" in err
        assert "Traceback" not in err


def test_a_missing_namespace_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.kube_replay import status_object

    missing = Answer(status_object(404, "NotFound", 'namespaces "gpu-operator" not found'), status=404)
    with Replay({**api_server(), ("PATCH", H200_PATH): missing}) as replay:
        kubeconfig = str(replay.kubeconfig(tmp_path))
        code, _, err = run(capsys, "snapshot", "--root", str(NODE), "--kubeconfig", kubeconfig, "-o", "cm://gpu-operator/h200")
        assert code == 2
        assert 'namespaces "gpu-operator" not found' in err
        assert "kubectl create namespace gpu-operator" in err


def test_a_snapshot_too_large_for_a_configmap_is_refused_before_it_is_sent(tmp_path: Path) -> None:
    snapshot = read_snapshot(H200)
    bulky = snapshot.model_copy(update={"metadata": {**snapshot.metadata, "note": "x" * MAX_CONFIGMAP_BYTES}})
    with Replay(api_server()) as replay:
        kube = connect(Target(kubeconfig=str(replay.kubeconfig(tmp_path))))
        with pytest.raises(diag.AicrcError) as caught:
            write_configmap(kube, ConfigMapRef("gpu-operator", "h200"), bulky, "yaml")
        assert caught.value.diagnostics[0].code == "E0917"
        assert "a ConfigMap holds at most 1.05 MB" in caught.value.diagnostics[0].message
        assert replay.requests == []


# ---- reading --------------------------------------------------------------------------------------


def test_a_configmap_the_reference_wrote_reads(tmp_path: Path) -> None:
    """The ConfigMap `aicr snapshot -o cm://default/aicr-snapshot` applied, as recorded."""
    body = recorded("configmap-aicr-v0.11.1.json")
    with Replay() as replay:
        replay.objects["/api/v1/namespaces/default/configmaps/aicr-snapshot"] = body
        snapshot = read_snapshot_from("cm://default/aicr-snapshot", Target(kubeconfig=str(replay.kubeconfig(tmp_path))))
    assert snapshot.metadata == {"source-node": "gpu-node-1", "timestamp": body["data"]["timestamp"], "version": "0.11.1"}
    assert [m.type for m in snapshot.measurements] == ["GPU", "SystemD", "OS", "K8s"]  # its topology could not list nodes
    assert snapshot.lookup("GPU.smi.gpu-count").value == 0


@pytest.mark.parametrize(
    ("data", "code", "said"),
    [
        (
            {"format": "yaml", "timestamp": "2026-11-29T21:09:44Z"},
            "E0916",
            "no snapshot.yaml or snapshot.json key (its keys: format, timestamp)",
        ),
        (None, "E0916", "its keys: none"),
        ({"snapshot.txt": "FIELD  VALUE\n", "format": "table"}, "E0916", "holds a table (--format table), which cannot be read back"),
        (
            {"snapshot.yaml": "kind: RecipeResult\napiVersion: aicr.nvidia.com/v1alpha1\n"},
            "E0902",
            "not a Snapshot: kind is 'RecipeResult'",
        ),
        ({"snapshot.yaml": "a: &a [x]\nb: *a\n"}, "E0901", "an alias (*a)"),
        ({"snapshot.json": '{"kind": "\ud800"}\n', "format": "json"}, "E0103", "is not UTF-8 text"),  # a JSON escape of the API's
        ({"snapshot.yaml": "kind: Snapshot\n" + "x: " + "y" * MAX_SNAPSHOT_BYTES + "\n"}, "E0105", "aicrc reads snapshots up to 4.2 MB"),
    ],
)
def test_a_configmap_that_holds_no_snapshot_says_what_it_holds(data: object, code: str, said: str, tmp_path: Path) -> None:
    with Replay({("GET", H200_PATH): Answer(configmap(data))}) as replay:
        problem = failure(replay, "cm://gpu-operator/h200")
    assert problem.code == code
    assert said in problem.message
    assert problem.span is None or problem.span.file == "cm://gpu-operator/h200"


def test_the_key_format_names_is_read_first() -> None:
    """As the reference reads it: `format: json` reads snapshot.json even beside a snapshot.yaml."""
    snapshot = read_snapshot(H200)
    data = {"snapshot.yaml": "not: a snapshot\n", "snapshot.json": render(snapshot, "json"), "format": "json"}
    with Replay({("GET", H200_PATH): Answer(configmap(data))}) as replay:
        assert read_snapshot_from("cm://gpu-operator/h200", Target(kubeconfig=str(replay.kubeconfig(Path(os.environ["HOME"]))))) == snapshot


def test_a_missing_configmap_says_how_to_take_one(capsys: pytest.CaptureFixture[str]) -> None:
    with Replay() as replay:
        problem = failure(replay, "cm://gpu-operator/h200")
        kubeconfig = str(replay.kubeconfig(Path(os.environ["HOME"])))
        code, out, err = run(capsys, "compile", "--snapshot", "cm://gpu-operator/h200", "--kubeconfig", kubeconfig)
    assert problem.code == "E0910"
    assert problem.message == (
        "Kubernetes: cannot read the ConfigMap gpu-operator/h200: HTTP 404: "
        f"the server could not find the requested resource (GET {H200_PATH})"
    )
    assert problem.help == "no ConfigMap h200 in the namespace gpu-operator: take one with `aicrc snapshot -o cm://gpu-operator/h200`"
    assert (code, out) == (2, "")  # the command could not run, as for an unreachable cluster
    assert "error[E0910]" in err and "Traceback" not in err


def test_rbac_refusing_the_read_is_exit_2_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    with Replay({("GET", H200_PATH): forbidden("get", "configmaps", namespace="gpu-operator")}) as replay:
        kubeconfig = str(replay.kubeconfig(Path(os.environ["HOME"])))
        for command in ("compile", "validate"):
            code, _, err = run(capsys, command, "--snapshot", "cm://gpu-operator/h200", "--kubeconfig", kubeconfig, "--intent", "training")
            assert code == 2, command
            assert 'configmaps is forbidden: User "system:serviceaccount:default:reader" cannot get resource "configmaps"' in err


def test_a_snapshot_with_errors_in_a_configmap_is_an_input_error_as_in_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    """compile's exit 1 (the input has errors), located in the ConfigMap's text; validate's 2 (could not check)."""
    answer = Answer(configmap({"snapshot.yaml": "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmeasurements: 5\n"}))
    with Replay({("GET", H200_PATH): answer}) as replay:
        kubeconfig = str(replay.kubeconfig(Path(os.environ["HOME"])))
        code, _, err = run(capsys, "compile", "--snapshot", "cm://gpu-operator/h200", "--kubeconfig", kubeconfig)
        assert code == 1
        assert "--> cm://gpu-operator/h200:3:15" in err
        code, _, err = run(capsys, "validate", "--snapshot", "cm://gpu-operator/h200", "--kubeconfig", kubeconfig, "--intent", "training")
        assert code == 2 and "E0904" in err


def test_an_unreachable_cluster_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("not: [a kubeconfig\n", encoding="utf-8")
    code, out, err = run(capsys, "compile", "--snapshot", "cm://gpu-operator/h200", "--kubeconfig", str(kubeconfig))
    assert (code, out) == (2, "")
    assert f"error[E0910]: Kubernetes: cannot read the kubeconfig {kubeconfig}" in err


# ---- the reference, live ------------------------------------------------------------------------------


@needs_reference
def test_the_reference_reads_the_configmap_aicrc_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Replay(api_server()) as replay:
        kubeconfig = str(replay.kubeconfig(tmp_path))
        code, _, err = run(capsys, "snapshot", "--root", str(NODE), "--kubeconfig", kubeconfig, "-o", "cm://gpu-operator/h200")
        assert code == 0, err
        done = subprocess.run(
            [AICR_BIN, "recipe", "--snapshot", "cm://gpu-operator/h200", "--kubeconfig", kubeconfig, "--intent", "training"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    # service=eks: from the K8s.server reading the EKS API server (version-eks.json) gave
    assert "building recipe from snapshot: criteria=criteria(service=eks, intent=training, os=ubuntu)" in done.stderr


@needs_reference
def test_aicrc_reads_the_configmap_the_reference_writes(tmp_path: Path) -> None:
    with Replay(api_server()) as replay:
        kubeconfig = str(replay.kubeconfig(tmp_path))
        env = {**os.environ, "AICR_AGENT_MODE": "true", "KUBECONFIG": kubeconfig, "NODE_NAME": "gpu-node-1"}
        done = subprocess.run([AICR_BIN, "snapshot", "-o", "cm://default/theirs"], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        snapshot = read_snapshot_from("cm://default/theirs", Target(kubeconfig=kubeconfig))
    assert snapshot.metadata["source-node"] == "gpu-node-1"
    assert snapshot.measurement("OS") is not None
