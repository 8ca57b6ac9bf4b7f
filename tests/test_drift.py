"""Helm releases and `aicrc drift`: release Secrets decoded as Helm 3 writes them (and refused, one
release at a time, when they are not), and drift between a cluster's releases and a recipe's Helm
components, with the real Kubernetes client against tests/kube_replay.py, or from a snapshot's
`K8s.helm` readings."""

from __future__ import annotations

import base64
import copy
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml

import aicrc
from aicrc.cli import main
from aicrc.cluster.drift import MAX_DIFFERENCES, value_differences
from aicrc.cluster.helm_releases import (
    MAX_RELEASE_BYTES,
    Release,
    decode_release,
    from_readings,
    releases_from_secrets,
    to_readings,
    values_digest,
)
from aicrc.cluster.read import read_snapshot
from aicrc.cluster.snapshot import to_data
from tests.conftest import FLAGSHIP, ROOT
from tests.kube_replay import Answer, Replay, forbidden

KUBE = ROOT / "tests" / "fixtures" / "kube"
H200 = ROOT / "tests" / "fixtures" / "snapshots" / "h200-ubuntu-24.04.yaml"
SECRETS = "/api/v1/secrets"


# ---- building release Secrets as Helm 3 writes them --------------------------------------------


def go_gzip(data: bytes) -> bytes:
    """gzip as Go's compress/gzip writes it at Helm's level (BestCompression): no time, OS unknown."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflate.compress(data) + deflate.flush()
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def secret_data(payload: bytes) -> str:
    """`data.release`: Helm's base64 of the payload, base64-encoded again as Kubernetes serves Secret data."""
    return base64.b64encode(base64.b64encode(payload)).decode()


def release_document(name: str, namespace: str, chart: str, version: str, values: dict[str, Any] | None, **more: Any) -> dict[str, Any]:
    """A release as Helm 3 serialises it (release.Release), with the fields a real one has."""
    revision = more.get("revision", 1)
    document: dict[str, Any] = {
        "name": name,
        "info": {
            "first_deployed": "2025-11-03T09:12:44.104312Z",
            "last_deployed": "2025-12-01T08:30:45.901445Z",
            "deleted": "",
            "description": "Install complete" if revision == 1 else "Upgrade complete",
            "status": more.get("status", "deployed"),
        },
        "chart": {
            "metadata": {
                "name": chart,
                "version": version,
                "apiVersion": "v2",
                "appVersion": more.get("app_version", version),
                "type": "application",
            },
            "lock": None,
            "templates": [{"name": "templates/deployment.yaml", "data": base64.b64encode(b"kind: Deployment\n").decode()}],
            "values": {"replicaCount": 1},
            "schema": None,
            "files": [],
        },
        "manifest": f"---\n# Source: {chart}/templates/deployment.yaml\nkind: Deployment\n",
        "version": revision,
        "namespace": namespace,
    }
    if values:  # Helm omits `config` when no values were supplied
        document["config"] = values
    return document


def release_secret(document: dict[str, Any], *, payload: bytes | None = None, data: str | None = None) -> dict[str, Any]:
    name, revision, status = document["name"], document["version"], document["info"]["status"]
    release = data if data is not None else secret_data(payload if payload is not None else go_gzip(json.dumps(document).encode()))
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": f"sh.helm.release.v1.{name}.v{revision}",
            "namespace": document["namespace"],
            "labels": {"modifiedAt": "1764577846", "name": name, "owner": "helm", "status": status, "version": str(revision)},
        },
        "data": {"release": release},
        "type": "helm.sh/release.v1",
    }


def secret_list(secrets: list[dict[str, Any]]) -> Answer:
    return Answer(body={"kind": "SecretList", "apiVersion": "v1", "metadata": {"resourceVersion": "918273"}, "items": secrets})


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((KUBE / name).read_text(encoding="utf-8"))
    return data


# ---- decoding ----------------------------------------------------------------------------------


def test_a_recorded_release_secret_decodes_to_its_chart_status_and_values() -> None:
    release = decode_release(recorded("helm-gpu-operator-v2-secret.json"))
    assert release == Release(
        name="gpu-operator",
        namespace="gpu-operator",
        chart="gpu-operator",
        version="v25.10.1",
        app_version="v25.10.1",
        status="deployed",
        revision=2,
        values={
            "driver": {"enabled": True, "version": "580.105.08", "rdma": {"enabled": True}},
            "cdi": {"enabled": True, "default": False},
            "toolkit": {"enabled": True},
            "dcgmExporter": {"serviceMonitor": {"enabled": True}},
        },
    )
    assert release.key == "gpu-operator/gpu-operator"


def test_the_latest_deployed_revision_stands_for_the_release() -> None:
    first, second = recorded("helm-gpu-operator-v1-secret.json"), recorded("helm-gpu-operator-v2-secret.json")
    assert [(r.revision, r.version) for r in releases_from_secrets([second, first])] == [(2, "v25.10.1")]
    # An upgrade that failed leaves the revision before it deployed: that one runs.
    failed = copy.deepcopy(second)
    failed["metadata"]["labels"]["status"] = "failed"
    deployed = copy.deepcopy(first)
    deployed["metadata"]["labels"]["status"] = "deployed"
    assert [(r.revision, r.status) for r in releases_from_secrets([failed, deployed])] == [(1, "superseded")]  # its JSON says so
    # With no deployed revision, the latest one, whose status says what happened.
    assert [(r.revision, r.status) for r in releases_from_secrets([failed, first])] == [(2, "deployed")]


def test_releases_are_grouped_by_namespace_and_name_and_other_secrets_passed_over() -> None:
    cert = release_secret(release_document("cert-manager", "cert-manager", "cert-manager", "v1.17.2", {"crds": {"enabled": True}}))
    other = {**cert, "type": "Opaque"}
    twin = release_secret(release_document("cert-manager", "kube-system", "cert-manager", "v1.16.0", None))
    releases = releases_from_secrets([other, twin, cert, "not a Secret", None])
    assert [(r.key, r.version, r.values) for r in releases] == [
        ("cert-manager/cert-manager", "v1.17.2", {"crds": {"enabled": True}}),
        ("kube-system/cert-manager", "v1.16.0", {}),  # no config: no values supplied
    ]
    assert releases_from_secrets(None) == releases_from_secrets({"items": 1}) == []


def test_a_release_helm_wrote_before_it_compressed_is_read_too() -> None:
    document = release_document("nfd", "node-feature-discovery", "node-feature-discovery", "0.19.0", {"master": {"replicaCount": 1}})
    release = decode_release(release_secret(document, payload=json.dumps(document).encode()))
    assert (release.chart, release.version, release.values, release.problem) == (
        "node-feature-discovery",
        "0.19.0",
        {"master": {"replicaCount": 1}},
        "",
    )


def _document_with(**changes: Any) -> bytes:
    document = release_document("gpu-operator", "gpu-operator", "gpu-operator", "v25.10.1", {"driver": {"enabled": True}})
    for dotted, value in changes.items():
        *parents, key = dotted.split("__")
        target = document
        for parent in parents:
            target = target[parent]
        if value is _DELETE:
            del target[key]
        else:
            target[key] = value
    return go_gzip(json.dumps(document).encode())


_DELETE = object()
_BOMB = go_gzip(b"\0" * (MAX_RELEASE_BYTES + 1024))
_DEEP = {"a": {}}
_deepest = _DEEP["a"]
for _ in range(70):
    _deepest["a"] = {}
    _deepest = _deepest["a"]


@pytest.mark.parametrize(
    ("data", "payload", "problem"),
    [
        ("%%% not base64 %%%", None, "data.release is not base64 (as Kubernetes encodes Secret data)"),
        (base64.b64encode(b"H4sI but not base64 !!").decode(), None, "the release is not base64 (as Helm encodes it)"),
        (None, b"\x1f\x8b\x08" + b"garbage after the gzip magic", "the release is not valid gzip: "),
        (None, go_gzip(b'{"name": "gpu-operator"}')[:-12], "the release's gzip stream is cut short"),
        (None, _BOMB, "the release inflates past 32 MiB: not a release but a gzip bomb"),
        (None, go_gzip(b"{not json"), "the release is neither gzip nor JSON: "),
        (None, b"\xff\xfe plain bytes", "the release is neither gzip nor JSON: "),
        (None, go_gzip(b"[" * 100_000 + b"]" * 100_000), "the release JSON nests too deeply"),
        (None, go_gzip(b'["a", "list"]'), "the release is a JSON list, not an object"),
        (None, _document_with(chart__metadata__version=_DELETE), "the release has no chart.metadata.version"),
        (None, _document_with(chart__metadata__name=7), "the release's chart.metadata.name is a JSON int, not a string"),
        (None, _document_with(chart=_DELETE), "the release has no chart"),
        (None, _document_with(chart__metadata=[]), "the release's chart.metadata is not an object"),
        (None, _document_with(config=["a", "list"]), "the release's config (its values) is a JSON list, not an object"),
        (None, _document_with(config=_DEEP), "the release's values nest more than 64 levels"),
    ],
    ids=[
        "kubernetes-base64",
        "helm-base64",
        "gzip",
        "gzip-cut-short",
        "gzip-bomb",
        "json",
        "neither",
        "json-nesting",
        "json-list",
        "no-chart-version",
        "chart-name-not-text",
        "no-chart",
        "chart-metadata-not-object",
        "config-list",
        "values-nesting",
    ],
)
def test_a_release_that_cannot_be_read_says_why_and_keeps_what_its_labels_say(
    data: str | None, payload: bytes | None, problem: str
) -> None:
    document = release_document("gpu-operator", "gpu-operator", "gpu-operator", "v25.10.1", None, revision=4, status="failed")
    release = decode_release(release_secret(document, payload=payload, data=data))
    assert release.problem.startswith(f"Secret sh.helm.release.v1.gpu-operator.v4: {problem}")
    assert (release.name, release.namespace, release.status, release.revision, release.values) == (
        "gpu-operator",
        "gpu-operator",
        "failed",
        4,
        {},
    )


def test_a_secret_without_release_data_or_labels_is_named_from_its_secret_name() -> None:
    bare = {"type": "helm.sh/release.v1", "metadata": {"name": "sh.helm.release.v1.my.app.v12", "namespace": "apps"}, "data": {}}
    [release] = releases_from_secrets([bare])
    assert (release.name, release.revision, release.status) == ("my.app", 12, "unknown")
    assert release.problem == "Secret sh.helm.release.v1.my.app.v12: the Secret has no data.release"


# ---- snapshot readings ---------------------------------------------------------------------------


def test_releases_round_trip_through_snapshot_readings_with_a_digest_of_their_values() -> None:
    ok = decode_release(recorded("helm-gpu-operator-v2-secret.json"))
    broken = Release("my.app", "apps", "", "", "", "failed", 3, {}, problem="Secret x: the release has no chart")
    readings = to_readings([ok, broken])
    assert readings["gpu-operator/gpu-operator.chart"] == "gpu-operator"
    assert readings["gpu-operator/gpu-operator.version"] == "v25.10.1"
    assert readings["gpu-operator/gpu-operator.revision"] == 2
    assert readings["gpu-operator/gpu-operator.values-digest"] == values_digest(ok.values)
    assert readings["apps/my.app.problem"] == "Secret x: the release has no chart"
    assert "apps/my.app.chart" not in readings
    back, unknown = from_readings({**readings, "stray": "x", "apps/my.app.colour": "red"})
    assert unknown == ["stray", "apps/my.app.colour"]
    assert [(r.release.key, r.release.revision, r.release.problem, r.values_digest) for r in back] == [
        ("apps/my.app", 3, "Secret x: the release has no chart", ""),
        ("gpu-operator/gpu-operator", 2, "", values_digest(ok.values)),
    ]
    assert back[1].release.replace(values=ok.values) == ok


def test_the_values_digest_does_not_depend_on_key_order_or_how_a_whole_number_is_written() -> None:
    assert values_digest({"a": 1, "b": {"c": [1.0, "x"]}}) == values_digest({"b": {"c": [1, "x"]}, "a": 1.0})
    assert values_digest({"a": True}) != values_digest({"a": 1})
    assert values_digest({"a": "1"}) != values_digest({"a": 1})


def test_value_differences_name_each_path_with_both_sides() -> None:
    recipe = {"driver": {"version": "580", "enabled": True}, "cdi": {"enabled": True}, "list": [1, 2], "one": 1, "dotted.key": {"x": 1}}
    installed = {"driver": {"version": "570", "enabled": 1}, "list": [1, 2], "one": 1.0, "dotted.key": {"x": 1}, "extra": {"k": "v"}}
    assert [(d.path, d.change, d.recipe, d.installed) for d in value_differences(recipe, installed)] == [
        ("cdi", "missing", '{"enabled": true}', None),
        ("driver.enabled", "changed", "true", "1"),
        ("driver.version", "changed", '"580"', '"570"'),
        ("extra", "extra", None, '{"k": "v"}'),
    ]


# ---- drift against a cluster ------------------------------------------------------------------


@pytest.fixture(scope="module")
def flagship_document() -> dict[str, Any]:
    document: dict[str, Any] = aicrc.load_library(use_env=False).compile_file(FLAGSHIP).document
    return document


def installed_as_compiled(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Release documents for every Helm component, as a bundle of the recipe installs them."""
    return {
        c["name"]: release_document(c["name"], c["namespace"], c["chart"]["name"], c["chart"]["version"], copy.deepcopy(c["values"]))
        for c in document["components"]
        if c["kind"] == "helm"
    }


def drift(tmp_path: Path, capsys: pytest.CaptureFixture[str], answer: Answer, *arguments: str) -> tuple[int, str, str, Replay]:
    with Replay({("GET", SECRETS): answer}) as replay:
        code = main(["drift", str(FLAGSHIP), "--kubeconfig", str(replay.kubeconfig(tmp_path)), *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err, replay


def test_a_cluster_installed_as_the_recipe_says_has_no_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flagship_document: dict[str, Any]
) -> None:
    documents = installed_as_compiled(flagship_document)
    # Beside them: an older revision, the Helmfile release of extra manifests, and a release in a namespace the recipe leaves alone.
    older = release_document("gpu-operator", "gpu-operator", "gpu-operator", "v25.3.0", None, revision=1, status="superseded")
    manifests = release_document("skyhook-customizations", "skyhook", "skyhook-customizations", "0.1.0", None)
    unrelated = release_document("ingress-nginx", "ingress-nginx", "ingress-nginx", "4.12.1", {"controller": {"replicaCount": 2}})
    secrets = [release_secret(d) for d in [*documents.values(), older, manifests, unrelated]]
    code, out, err, replay = drift(tmp_path, capsys, secret_list(secrets))
    assert code == 0, out + err
    assert out.startswith("drift: blackwell-eks-training (service=eks, accelerator=gb200, os=ubuntu, intent=training, platform=kubeflow)")
    assert f"against cluster {replay.url}\n" in out
    assert "STATUS  RELEASE" in out
    assert "ok      gpu-operator/gpu-operator" in out and "gpu-operator v25.10.1 (deployed, revision 1)" in out
    assert out.endswith(f"no drift: {len(documents)} ok\n")
    assert "ingress-nginx" not in out
    [request] = replay.requests
    assert request.query["labelSelector"] == ["owner=helm"]


def test_drift_names_missing_extra_older_and_changed_releases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flagship_document: dict[str, Any]
) -> None:
    documents = installed_as_compiled(flagship_document)
    del documents["nvsentinel"]
    operator = documents["gpu-operator"]
    operator["chart"]["metadata"]["version"] = "v25.3.0"
    values = operator["config"]
    values["driver"]["version"] = "570.133.20"
    del values["cdi"]
    values["mig"] = {"strategy": "mixed"}
    documents["cert-manager"]["namespace"] = "security"
    documents["kai-scheduler"]["info"]["status"] = "failed"
    extra = release_document("dcgm-exporter", "gpu-operator", "dcgm-exporter", "4.1.1-4.0.4", None)
    code, out, err, _ = drift(tmp_path, capsys, secret_list([release_secret(d) for d in [*documents.values(), extra]]))
    assert code == 1, out + err
    lines = out.splitlines()
    row = next(line for line in lines if "gpu-operator/gpu-operator" in line)
    assert row.split()[:2] == ["version,", "values"]
    at = lines.index(row)
    cdi = json.dumps(flagship_document_values(flagship_document, "gpu-operator")["cdi"], sort_keys=True)
    assert [line.strip() for line in lines[at + 1 : at + 6]] == [
        "chart version v25.3.0 (older); the recipe pins v25.10.1",
        "3 values paths differ from the recipe's",
        f"cdi: recipe {cdi}, installed (not set)",
        'driver.version: recipe "580.105.08", installed "570.133.20"',
        'mig: recipe (not set), installed {"strategy": "mixed"}',
    ]
    assert any(line.startswith("missing") and "nvsentinel/nvsentinel" in line for line in lines)
    assert "no release nvsentinel: the recipe installs nvsentinel v1.1.0 in nvsentinel" in out
    assert "in namespace security; the recipe installs it in cert-manager" in out
    assert "revision 1 is failed, not deployed" in out
    assert any(line.startswith("extra") and "gpu-operator/dcgm-exporter" in line for line in lines)
    assert "no component of the recipe installs a release named dcgm-exporter, in a namespace it installs into" in out
    assert out.endswith("drift found: " + f"{len(documents) - 3} ok, 1 missing, 1 namespace, 1 version, 1 status, 1 values, 1 extra\n")


def flagship_document_values(document: dict[str, Any], name: str) -> dict[str, Any]:
    values: dict[str, Any] = next(c for c in document["components"] if c["name"] == name)["values"]
    return values


def test_the_json_report_lists_every_release_with_its_findings_and_caps_the_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flagship_document: dict[str, Any]
) -> None:
    documents = installed_as_compiled(flagship_document)
    documents["gpu-operator"]["config"] = {f"key{n:02}": n for n in range(MAX_DIFFERENCES + 5)}
    documents["cert-manager"]["chart"]["metadata"]["name"] = "cert-manager-fork"
    code, out, err, _ = drift(tmp_path, capsys, secret_list([release_secret(d) for d in documents.values()]), "--format", "json")
    assert code == 1, err
    report = json.loads(out)
    assert (report["drift"], report["complete"], report["source"].startswith("cluster http://127.0.0.1:")) == (True, True, True)
    assert report["summary"]["chart"] == 1 and report["summary"]["values"] == 1 and report["summary"]["ok"] == len(documents) - 2
    operator = next(r for r in report["releases"] if r["name"] == "gpu-operator")
    assert operator["installed"]["chart"] == "gpu-operator" and operator["status"] == "values"
    [values] = operator["findings"]
    compiled = flagship_document_values(flagship_document, "gpu-operator")
    assert len(values["differences"]) == MAX_DIFFERENCES
    assert values["more"] == len(compiled) + MAX_DIFFERENCES + 5 - MAX_DIFFERENCES
    assert values["differences"][0]["change"] in ("missing", "extra")
    assert all(d["recipe"] is None or len(d["recipe"]) <= 80 for d in values["differences"])
    cert = next(r for r in report["releases"] if r["name"] == "cert-manager")
    assert [f["kind"] for f in cert["findings"]] == ["chart"]


def test_a_release_that_cannot_be_read_is_not_passed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flagship_document: dict[str, Any]
) -> None:
    documents = installed_as_compiled(flagship_document)
    secrets = [release_secret(d) for name, d in documents.items() if name != "gpu-operator"]
    secrets.append(release_secret(documents["gpu-operator"], payload=b"\x1f\x8b\x08 truncated"))
    code, out, err, _ = drift(tmp_path, capsys, secret_list(secrets))
    assert code == 2, out + err
    assert "unreadable  gpu-operator/gpu-operator" in out
    assert "cannot read the release: Secret sh.helm.release.v1.gpu-operator.v1: the release is not valid gzip" in out
    assert out.endswith(f"not everything could be checked: {len(documents) - 1} ok, 1 unreadable\n")
    assert "Traceback" not in err


def test_rbac_denied_on_secrets_cannot_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, _ = drift(tmp_path, capsys, forbidden("list", "secrets"))
    assert code == 2
    assert out == ""
    assert "error[E0910]: Kubernetes: cannot list Helm release Secrets: HTTP 403: secrets is forbidden" in err
    assert "lacks the RBAC permission" in err
    code, out, _, _ = drift(tmp_path, capsys, forbidden("list", "secrets"), "--format", "json")
    assert code == 2
    assert json.loads(out)["errors"][0]["code"] == "E0910"


def test_hostile_release_names_and_values_stay_on_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flagship_document: dict[str, Any]
) -> None:
    documents = installed_as_compiled(flagship_document)
    documents["gpu-operator"]["config"]["driver"]["version"] = "\x1b[31mred\nnext\x9b"
    hostile = release_document("evil\x1b[2J", "gpu-operator", "x", "1", None)
    code, out, _, _ = drift(tmp_path, capsys, secret_list([release_secret(d) for d in [*documents.values(), hostile]]))
    assert code == 1
    assert "\x1b" not in out and "\x9b" not in out
    assert 'installed "\\u001b[31mred\\nnext\\u009b"' in out  # as JSON escapes them, the C1 range too
    assert "gpu-operator/evil\\x1b[2J" in out


# ---- drift from a snapshot -----------------------------------------------------------------------


def snapshot_with_helm(tmp_path: Path, readings: dict[str, Any] | None, *, skipped: str = "") -> Path:
    """The H200 snapshot on an EKS node, with the Helm releases a Kubernetes collector recorded."""
    data: dict[str, Any] = to_data(read_snapshot(H200))
    subtypes: list[dict[str, Any]] = [{"subtype": "node", "data": {"provider-id": "aws:///us-east-1a/i-0123456789abcdef0"}}]
    if readings is not None:
        subtypes.append({"subtype": "helm", "data": readings, **({"context": {"skipped": skipped}} if skipped else {})})
    data["measurements"].insert(0, {"type": "K8s", "subtypes": subtypes})
    path = tmp_path / "snapshot.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def h200_document() -> dict[str, Any]:
    library = aicrc.load_library(use_env=False)
    criteria = {"service": "eks", "accelerator": "h200", "os": "ubuntu", "intent": "training"}
    document: dict[str, Any] = library.compile(criteria).document
    return document


def releases_of(documents: dict[str, dict[str, Any]]) -> list[Release]:
    return releases_from_secrets([release_secret(d) for d in documents.values()])


def test_drift_from_a_snapshot_compares_charts_and_values_digests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], h200_document: dict[str, Any]
) -> None:
    documents = installed_as_compiled(h200_document)
    snapshot = snapshot_with_helm(tmp_path, {**to_readings(releases_of(documents)), "gpu-operator/gpu-operator.colour": "green"})
    assert main(["drift", "--snapshot", str(snapshot), "--intent", "training"]) == 0
    captured = capsys.readouterr()
    assert "note: K8s.helm.gpu-operator/gpu-operator.colour is not NAMESPACE/RELEASE.FIELD with a field drift reads" in captured.out
    assert captured.out.startswith("drift: eks-h200-ubuntu-training-kubeflow (service=eks, accelerator=h200, os=ubuntu")
    assert f"against snapshot {snapshot}\n" in captured.out
    assert "note: criteria from the snapshot" in captured.err

    documents["gpu-operator"]["config"]["driver"]["version"] = "570.133.20"
    documents["prometheus-adapter"]["chart"]["metadata"]["version"] = "5.2.0"
    snapshot = snapshot_with_helm(tmp_path, to_readings(releases_of(documents)))
    assert main(["drift", "--snapshot", str(snapshot), "--intent", "training"]) == 1
    out = capsys.readouterr().out
    assert "a snapshot keeps only their digest: run drift against the cluster to see which" in out
    assert "chart version 5.2.0 (older); the recipe pins 5.3.0" in out


def test_a_snapshot_without_values_digests_cannot_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], h200_document: dict[str, Any]
) -> None:
    readings = {key: value for key, value in to_readings(releases_of(installed_as_compiled(h200_document))).items() if "digest" not in key}
    assert main(["drift", "--snapshot", str(snapshot_with_helm(tmp_path, readings)), "--intent", "training", "--format", "json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert (report["drift"], report["complete"]) == (False, False)
    assert {f["message"] for r in report["releases"] for f in r["findings"]} == {
        "values not compared: the snapshot records no digest of them"
    }


@pytest.mark.parametrize(
    ("readings", "skipped", "message"),
    [
        (None, "", "records no Helm releases (it has no K8s.helm subtype)"),
        (
            {},
            'secrets is forbidden: User "reader" cannot list resource "secrets"',
            "could not record Helm releases: K8s.helm was skipped: ",
        ),
    ],
)
def test_a_snapshot_that_recorded_no_releases_cannot_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], readings: dict[str, Any] | None, skipped: str, message: str
) -> None:
    snapshot = snapshot_with_helm(tmp_path, readings, skipped=skipped)
    assert main(["drift", "--snapshot", str(snapshot), "--intent", "training"]) == 2
    err = capsys.readouterr().err
    assert f"error[E0930]: the snapshot {snapshot} {message}{skipped}" in err


def test_a_snapshot_kept_in_a_configmap_is_read_from_the_cluster_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], h200_document: dict[str, Any]
) -> None:
    text = snapshot_with_helm(tmp_path, to_readings(releases_of(installed_as_compiled(h200_document)))).read_text(encoding="utf-8")
    configmap = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "snap", "namespace": "default"}}
    routes = {("GET", "/api/v1/namespaces/default/configmaps/snap"): Answer(body={**configmap, "data": {"snapshot.yaml": text}})}
    with Replay(routes) as replay:
        argv = ["drift", "--snapshot", "cm://default/snap", "--kubeconfig", str(replay.kubeconfig(tmp_path)), "--intent", "training"]
        assert main(argv) == 0
    assert "against snapshot cm://default/snap\n" in capsys.readouterr().out
    assert [request.path for request in replay.requests] == ["/api/v1/namespaces/default/configmaps/snap"]  # no Secret listed


def test_a_recipe_with_errors_is_reported_before_the_cluster_is_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.aicr"
    broken.write_text("recipe broken { service = nowhere }\n", encoding="utf-8")
    with Replay() as replay:
        assert main(["drift", str(broken), "--kubeconfig", str(replay.kubeconfig(tmp_path))]) == 2
    assert replay.requests == []
    assert "error[E0304]" in capsys.readouterr().err
