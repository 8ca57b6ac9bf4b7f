"""The flagship bundle's deploy.sh and undeploy.sh, run against stub `helm`, `kubectl` and `sleep`
executables first on PATH that record their arguments: the order of components, the flags,
--dry-run, retries with exponential backoff, --from."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import aicrc
from aicrc.bundle.build import build_bundle
from aicrc.bundle.recipe import Recipe, from_document
from aicrc.bundle.writer import write_bundle
from tests.conftest import FLAGSHIP

# Each stub writes one line per call: its name and arguments, separated by tabs. helm fails while
# the number in $STUB_HELM_FAILURES (a file) is above zero, counting it down.
STUB = """#!/usr/bin/env bash
printf '%s' "$(basename "$0")" >> "$STUB_LOG"
printf '\\t%s' "$@" >> "$STUB_LOG"
printf '\\n' >> "$STUB_LOG"
if [[ "$(basename "$0")" == helm && -f "${STUB_HELM_FAILURES:-}" ]]; then
  left=$(cat "$STUB_HELM_FAILURES")
  if [[ "$left" -gt 0 ]]; then
    echo $((left - 1)) > "$STUB_HELM_FAILURES"
    echo "Error: stub helm fails" >&2
    exit 1
  fi
fi
"""


@pytest.fixture(scope="module")
def recipe() -> Recipe:
    return from_document(aicrc.load_library(use_env=False).compile_file(FLAGSHIP).document)


@pytest.fixture(scope="module")
def bundle_dir(recipe: Recipe, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("flagship") / "bundle"
    write_bundle(build_bundle(recipe, ["helm"]), str(folder))
    return folder


class Stubs:
    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        for tool in ("helm", "kubectl", "sleep"):
            (self.bin / tool).write_text(STUB)
            (self.bin / tool).chmod(0o755)
        self.log = root / "calls.log"
        self.failures = root / "helm-failures"

    def run(self, script: Path, *args: str, helm_failures: int = 0) -> subprocess.CompletedProcess[str]:
        self.failures.write_text(str(helm_failures))
        env = {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "STUB_LOG": str(self.log),
            "STUB_HELM_FAILURES": str(self.failures),
            "AICRC_BACKOFF_BASE": "1",
        }
        return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, env=env, timeout=60)

    def calls(self, tool: str | None = None) -> list[list[str]]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        calls = [line.split("\t") for line in lines]
        return [call for call in calls if tool is None or call[0] == tool]


@pytest.fixture
def stubs(tmp_path: Path) -> Stubs:
    return Stubs(tmp_path)


def released(calls: list[list[str]]) -> list[str]:
    """The component each helm or kubectl call is for: the release, or the manifest's folder."""
    names = []
    for call in calls:
        if call[0] == "helm":
            names.append(call[3] if call[1] == "upgrade" else call[2])
        elif call[0] == "kubectl":
            names.append(Path(call[-1]).parts[-3] if "manifests" in call[-1] else Path(call[-1]).parts[-2])
    return list(dict.fromkeys(names))


def test_deploy_installs_every_component_in_deployment_order(bundle_dir: Path, recipe: Recipe, stubs: Stubs) -> None:
    result = stubs.run(bundle_dir / "deploy.sh")
    assert result.returncode == 0, result.stderr
    assert released(stubs.calls()) == [component.name for component in recipe.components]
    assert result.stdout.endswith("deploy.sh: installed 16 components\n")
    assert stubs.calls("sleep") == []


def test_deploy_passes_the_chart_values_namespace_and_wait_flags(bundle_dir: Path, stubs: Stubs) -> None:
    stubs.run(bundle_dir / "deploy.sh", "--timeout", "15m")
    calls = stubs.calls()
    gpu = calls.index(
        [
            "helm", "upgrade", "--install", "gpu-operator", "gpu-operator",
            "--repo", "https://helm.ngc.nvidia.com/nvidia", "--version", "v25.10.1",
            "--namespace", "gpu-operator", "--create-namespace",
            "-f", f"{bundle_dir}/gpu-operator/values.yaml", "--timeout", "15m", "--wait",
        ]
    )  # fmt: skip
    # its manifest right after it
    assert calls[gpu + 1] == [
        "kubectl",
        "apply",
        "--namespace",
        "gpu-operator",
        "-f",
        f"{bundle_dir}/gpu-operator/manifests/dcgm-exporter-metrics.yaml",
    ]
    # an OCI chart by its full reference, without --repo
    assert calls[-1][:7] == ["helm", "upgrade", "--install", "nvsentinel", "oci://ghcr.io/nvidia/nvsentinel", "--version", "v1.1.0"]
    assert "--repo" not in calls[-1]
    # a manifests-only component: its namespace, then its manifests, and no helm
    sky = calls.index(["kubectl", "apply", "-f", f"{bundle_dir}/skyhook-customizations/namespace.yaml"])
    assert calls[sky + 1] == [
        "kubectl",
        "apply",
        "--namespace",
        "skyhook",
        "-f",
        f"{bundle_dir}/skyhook-customizations/manifests/skyhook-no-op.yaml",
    ]
    assert not any(call[0] == "helm" and "skyhook-customizations" in call for call in calls)


def test_no_wait_leaves_out_wait(bundle_dir: Path, stubs: Stubs) -> None:
    assert stubs.run(bundle_dir / "deploy.sh", "--no-wait").returncode == 0
    helm = stubs.calls("helm")
    assert helm and all("--wait" not in call and call[-2:] == ["--timeout", "10m"] for call in helm)


def test_dry_run_prints_every_command_and_runs_nothing(bundle_dir: Path, recipe: Recipe, stubs: Stubs) -> None:
    result = stubs.run(bundle_dir / "deploy.sh", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert stubs.calls() == []
    shown = [line for line in result.stdout.splitlines() if line.startswith("+ ")]
    assert sum(line.startswith("+ helm upgrade --install ") for line in shown) == sum(c.kind == "helm" for c in recipe.components)
    assert (
        "+ helm upgrade --install cert-manager cert-manager --repo https://charts.jetstack.io --version v1.17.2 "
        f"--namespace cert-manager --create-namespace -f {bundle_dir}/cert-manager/values.yaml --timeout 10m --wait"
    ) in shown
    assert result.stdout.endswith("dry run: showed the commands for 16 components and ran none\n")


def test_a_failing_command_is_retried_with_exponential_backoff(bundle_dir: Path, stubs: Stubs) -> None:
    result = stubs.run(bundle_dir / "deploy.sh", helm_failures=2)
    assert result.returncode == 0, result.stderr
    first = [call for call in stubs.calls("helm") if call[3] == "aws-ebs-csi-driver"]
    assert len(first) == 3  # failed, failed, succeeded
    assert stubs.calls("sleep") == [["sleep", "1"], ["sleep", "2"]]  # AICRC_BACKOFF_BASE=1, doubled
    assert "deploy.sh: helm failed; retry 1 of 5 in 1s" in result.stderr
    assert "deploy.sh: helm failed; retry 2 of 5 in 2s" in result.stderr


def test_giving_up_names_the_component_to_resume_from(bundle_dir: Path, stubs: Stubs) -> None:
    result = stubs.run(bundle_dir / "deploy.sh", "--retries", "1", helm_failures=100)
    assert result.returncode == 1
    assert len(stubs.calls("helm")) == 2 and stubs.calls("sleep") == [["sleep", "1"]]
    assert "deploy.sh: helm failed 2 times; giving up" in result.stderr
    assert "resume with: ./deploy.sh --from aws-ebs-csi-driver" in result.stderr


def test_from_resumes_at_the_named_component(bundle_dir: Path, recipe: Recipe, stubs: Stubs) -> None:
    result = stubs.run(bundle_dir / "deploy.sh", "--from", "kai-scheduler")
    assert result.returncode == 0, result.stderr
    names = [component.name for component in recipe.components]
    assert released(stubs.calls()) == names[names.index("kai-scheduler") :]
    assert "skipping gpu-operator (before kai-scheduler)" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "no-such-component"], "--from: no component 'no-such-component' in this bundle"),
        (["--retries", "many"], "--retries: expected a whole number"),
        (["--timeout", "soon"], "--timeout: expected a duration"),
        (["--from"], "--from needs a value"),
        (["--frm", "x"], "unknown option: --frm"),
    ],
)
def test_bad_options_are_usage_errors(bundle_dir: Path, stubs: Stubs, arguments: list[str], message: str) -> None:
    result = stubs.run(bundle_dir / "deploy.sh", *arguments)
    assert result.returncode == 2
    assert message in result.stderr and "Try './deploy.sh --help'." in result.stderr
    assert stubs.calls() == []


def test_help_lists_the_options_and_the_components(bundle_dir: Path, stubs: Stubs) -> None:
    result = stubs.run(bundle_dir / "deploy.sh", "--help")
    assert result.returncode == 0 and stubs.calls() == []
    for text in ("--dry-run", "--from COMPONENT", "--retries N", "AICRC_BACKOFF_BASE", "gpu-operator", "chart gpu-operator v25.10.1"):
        assert text in result.stdout


def test_undeploy_removes_in_reverse_order_manifests_before_charts(bundle_dir: Path, recipe: Recipe, stubs: Stubs) -> None:
    result = stubs.run(bundle_dir / "undeploy.sh")
    assert result.returncode == 0, result.stderr
    calls = stubs.calls()
    assert released(calls) == [component.name for component in reversed(recipe.components)]
    manifest = [
        "kubectl",
        "delete",
        "--namespace",
        "gpu-operator",
        "--ignore-not-found",
        "-f",
        f"{bundle_dir}/gpu-operator/manifests/dcgm-exporter-metrics.yaml",
    ]
    chart = ["helm", "uninstall", "gpu-operator", "--namespace", "gpu-operator", "--ignore-not-found", "--timeout", "10m", "--wait"]
    assert calls.index(manifest) + 1 == calls.index(chart)
    assert result.stdout.endswith("undeploy.sh: removed 16 components\n")


def test_a_missing_tool_is_named(bundle_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # neither helm nor kubectl
    result = subprocess.run(["/bin/bash", str(bundle_dir / "deploy.sh")], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr == "deploy.sh: helm is not installed, or not on PATH\n"
