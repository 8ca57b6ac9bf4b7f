"""The server's container image (Containerfile) and its Kubernetes objects (deploy/), read and
checked here: there is no container runtime to build the image, nor a cluster to apply the objects.

deploy/ is an aicrc recipe against a library of its own (AICRC_STDLIB=deploy/library): its bundle,
written by `aicrc bundle`, verifies; every core object validates strictly with kubernetes-validate
for the oldest and newest Kubernetes it knows. The ServiceMonitor is a custom resource with no
schema in this repository (neither kubernetes-validate nor tests/k8s-models carries the Prometheus
Operator's CRDs), so its required fields and its agreement with the Service are checked instead.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

import aicrc
from aicrc.bundle.build import build_bundle
from aicrc.bundle.recipe import from_document
from aicrc.bundle.verify import TrustLevel, verify
from aicrc.bundle.writer import write_bundle
from aicrc.version import __version__
from tests.conftest import ROOT

CONTAINERFILE = ROOT / "Containerfile"
DEPLOY = ROOT / "deploy"
KUBERNETES = sorted({all_versions()[0], all_versions()[-1]})
SECRET_WORDS = re.compile(r"(?i)password|passwd|token|secret|private|api[_-]?key|credential")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Containerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", CONTAINERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last = max(index for index, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last:]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AICRC_STDLIB", str(DEPLOY / "library"))
        compiled = aicrc.load_library(use_env=False).compile_file(DEPLOY / "aicrc-server.aicr")
    folder = tmp_path_factory.mktemp("deploy") / "aicrc-server"
    write_bundle(build_bundle(from_document(compiled.document), ["helm"]), str(folder))
    return folder


@pytest.fixture(scope="module")
def objects(bundle: Path) -> dict[str, dict[str, Any]]:
    """Kind -> object, for every object of the bundle."""
    found = {}
    for path in sorted((bundle / "aicrc-server").rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            assert document["kind"] not in found, document["kind"]
            found[document["kind"]] = document
    return found


# ---- the image --------------------------------------------------------------------------------


def test_the_image_runs_the_server_as_a_user_other_than_root() -> None:
    users = [arguments for name, arguments in final_stage() if name == "USER"]
    assert users, "the final stage names no USER: it would run as root"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) != 0 and (not group or int(group) != 0)  # numeric: runAsNonRoot can check it
    entry = next(json_args for name, json_args in final_stage() if name == "ENTRYPOINT")
    assert yaml.safe_load(entry) == ["aicrc", "serve"]


def test_the_image_checks_its_health_on_the_port_it_exposes(objects: dict[str, dict[str, Any]]) -> None:
    steps = dict(final_stage())
    port = int(steps["EXPOSE"])
    assert f"127.0.0.1:{port}/health" in steps["HEALTHCHECK"] and "--interval=" in steps["HEALTHCHECK"]
    assert yaml.safe_load(steps["CMD"]) == ["--host", "0.0.0.0", "--port", str(port)]
    container = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == port and container["args"] == yaml.safe_load(steps["CMD"])


def test_the_image_writes_nothing_at_run_time_and_holds_no_secrets() -> None:
    steps = final_stage()
    environment = " ".join(arguments for name, arguments in steps if name == "ENV")
    assert "AICRC_NO_CACHE=1" in environment and "PYTHONDONTWRITEBYTECODE=1" in environment
    for name, arguments in instructions():
        if name in ("ENV", "ARG", "LABEL"):
            assert not SECRET_WORDS.search(arguments), arguments
        if name in ("COPY", "ADD") and "--from=" not in arguments:  # from the build context, not another stage
            sources = [word for word in shlex.split(arguments) if not word.startswith("--")][:-1]
            assert all((ROOT / source).exists() for source in sources), sources
            assert not any(source in (".", "./") or source.startswith((".git", "/")) for source in sources), sources


def test_the_image_builds_from_what_the_wheel_needs() -> None:
    """Every file or folder pyproject.toml builds the wheel from is copied into the build stage."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {"pyproject.toml", project["project"]["readme"], *wheel["packages"], *wheel["force-include"]}
    needed |= {hook["path"] for hook in wheel.get("hooks", {}).values() if "path" in hook}
    copied = {
        source.rstrip("/")
        for name, arguments in instructions()
        if name == "COPY" and "--from=" not in arguments
        for source in shlex.split(arguments)[:-1]
    }
    assert needed <= copied, sorted(needed - copied)


def test_the_base_image_is_pinned_to_a_python_release() -> None:
    """By tag: no registry can be reached here to learn a digest to pin (the Containerfile says how)."""
    base = next(arguments for name, arguments in instructions() if name == "ARG" and arguments.startswith("PYTHON_IMAGE="))
    image = base.split("=", 1)[1]
    name, _, tag = image.partition("@")[0].partition(":")
    assert name == "python" and tag.startswith("3.11") and tag != "latest"  # the Python pyproject.toml requires
    assert all(arguments == "${PYTHON_IMAGE}" or arguments.startswith("${PYTHON_IMAGE} ") for n, arguments in instructions() if n == "FROM")


# ---- the Kubernetes objects ----------------------------------------------------------------------


def test_the_deployment_bundle_verifies(bundle: Path) -> None:
    assert verify(bundle).reached == TrustLevel.CHECKSUMS
    assert {"deploy.sh", "undeploy.sh", "checksums.txt", "sbom.cdx.json", "aicrc-server/namespace.yaml"} <= {
        p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()
    }
    assert f"ghcr.io/aicrc/aicrc:{__version__}" in (bundle / "sbom.cdx.json").read_text()  # the image, in the SBOM


@pytest.mark.parametrize("version", KUBERNETES)
def test_the_objects_validate(objects: dict[str, dict[str, Any]], version: str) -> None:
    assert set(objects) == {
        "Namespace",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "ServiceMonitor",
    }
    for kind, document in objects.items():
        if kind == "ServiceMonitor":
            continue
        kubernetes_validate.validate(document, version, strict=True)  # raises on anything the API server would refuse


def test_the_service_monitor_has_what_the_prometheus_operator_requires(objects: dict[str, dict[str, Any]]) -> None:
    monitor, service = objects["ServiceMonitor"], objects["Service"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1" and monitor["metadata"]["namespace"] == service["metadata"]["namespace"]
    assert set(monitor["spec"]["selector"]["matchLabels"].items()) <= set(service["metadata"]["labels"].items())
    ports = {port["name"] for port in service["spec"]["ports"]}
    assert monitor["spec"]["endpoints"] and all(e["port"] in ports and e["path"] == "/metrics" for e in monitor["spec"]["endpoints"])


def test_the_objects_agree(objects: dict[str, dict[str, Any]]) -> None:
    deployment = objects["Deployment"]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    container = pod["spec"]["containers"][0]
    assert container["image"] == f"ghcr.io/aicrc/aicrc:{__version__}"  # the image of this release
    # stateless: it scales by replicas, at least two, and a drain leaves one serving
    assert (
        deployment["spec"]["replicas"] >= 2 and objects["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == deployment["spec"]["replicas"]
    )
    assert objects["PodDisruptionBudget"]["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    assert objects["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert "cpu" in container["resources"]["requests"]  # the autoscaler's measure
    for selector in (
        deployment["spec"]["selector"]["matchLabels"],
        objects["Service"]["spec"]["selector"],
        objects["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
        objects["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"],
    ):
        assert set(selector.items()) <= set(labels.items())
    # probes on the server's own routes; non-root, read-only, with /tmp the one writable folder
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready" and container["livenessProbe"]["httpGet"]["path"] == "/health"
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    user = next(arguments for name, arguments in final_stage() if name == "USER").partition(":")[0]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True and pod["spec"]["securityContext"]["runAsUser"] == int(user)
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/tmp"]
    # the network policy lets requests reach the port the Service sends them to
    assert objects["NetworkPolicy"]["spec"]["ingress"][0]["ports"][0]["port"] == objects["Service"]["spec"]["ports"][0]["targetPort"]
