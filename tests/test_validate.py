"""`aicrc validate RECIPE --snapshot FILE`: every constraint of the compiled recipe against the
snapshot, with the reference's version semantics; skipped (never passed) where the snapshot has no
reading; reported as a table, JSON, CTRF (validated against the CTRF schema) and JUnit XML. And
`--snapshot` on compile and explain: criteria inferred from the snapshot, flags overriding.

With AICR_BIN naming the reference's `aicr` binary, its own readiness pre-flight reaches the same
verdicts on the same snapshots."""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from aicrc.api import load_library
from aicrc.cli import main
from aicrc.cluster.infer import infer_criteria
from aicrc.cluster.read import read_snapshot
from aicrc.cluster.readiness import check_readiness
from aicrc.cluster.snapshot import Snapshot, to_data
from aicrc.cluster.versions import evaluate, parse_version
from tests.conftest import FLAGSHIP, ROOT
from tests.helpers import CTRF_SCHEMA, valid_ctrf

SNAPSHOTS = ROOT / "tests" / "fixtures" / "snapshots"
H200 = SNAPSHOTS / "h200-ubuntu-24.04.yaml"
DEBIAN = SNAPSHOTS / "aicr-v0.11.1-no-gpu-debian-12.yaml"
H100_EKS = ROOT / "recipes" / "h100-eks-training.aicr"

KERNEL, K8S = "OS.sysctl./proc/sys/kernel/osrelease", "K8s.server.version"
ROOT_ONLY = "--root measures a tree copied from a node; give --kubeconfig to measure its cluster too"  # why H200 has no K8s readings


def validate(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["validate", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def with_kubernetes(tmp_path: Path, version: str, provider_id: str = "aws:///us-east-1a/i-0123456789abcdef0") -> Path:
    """The H200 snapshot plus a K8s measurement, as the reference's Kubernetes collector writes one."""
    data: dict[str, Any] = to_data(read_snapshot(H200))
    measurements: list[dict[str, Any]] = data["measurements"]  # type: ignore[assignment]
    measurements.insert(
        0,
        {
            "type": "K8s",
            "subtypes": [
                {"subtype": "server", "data": {"version": version, "platform": "linux/amd64", "goVersion": "go1.24.9"}},
                {"subtype": "node", "data": {"provider-id": provider_id, "provider": "eks", "source-node": "ip-10-0-1-23"}},
            ],
        },
    )
    path = tmp_path / "h200-eks.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def statuses(report_json: str) -> dict[str, str]:
    return {result["name"]: result["status"] for result in json.loads(report_json)["results"]}


# ---- the reference's comparison rules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "numbers", "precision"),
    [
        ("6.8.0-1024-aws", (6, 8, 0), 3),
        ("v1.32.4-eks-3025e55", (1, 32, 4), 3),
        ("6.18.44-fc-v657-gpu", (6, 18, 44), 3),
        ("1.28.0-gke.1337000", (1, 28, 0), 3),
        ("24.04", (24, 4, 0), 2),
        ("v1.34", (1, 34, 0), 2),
        ("1.2.3+build.5", (1, 2, 3), 3),
        ("7", (7, 0, 0), 1),
    ],
)
def test_versions_parse_as_the_reference_parses_them(text: str, numbers: tuple[int, int, int], precision: int) -> None:
    parsed = parse_version(text)
    assert parsed is not None and parsed.numbers() == numbers and parsed.precision == precision


@pytest.mark.parametrize("text", ["", "v", "1.2.3.4", "a.b", "1..2", "-1.2", "1.-2", "ubuntu", "9" * 30])
def test_what_is_not_a_version(text: str) -> None:
    assert parse_version(text) is None


@pytest.mark.parametrize(
    ("actual", "operator", "expected", "holds"),
    [
        ("6.8.0-1024-aws", ">=", "6.8", True),  # compared to the shorter precision
        ("6.18.44-fc-v657-gpu", ">=", "6.8", True),  # 18 > 8: numbers, not text
        ("6.5.0-1022-aws", ">=", "6.8", False),
        ("v1.32.4", ">=", "1.32.4", True),
        ("v1.32.4-eks-3025e55", ">=", "1.32.4", True),
        ("v1.31.9-eks-3025e55", ">=", "1.32.4", False),
        ("1.32", ">=", "1.32.9", True),  # precision 2 on one side: 1.32 == 1.32
        ("1.32.4", ">", "1.32.4", False),
        ("1.33.0", ">", "1.32.4", True),
        ("1.30.0", "<", "1.32", True),
        ("1.32.0", "<=", "1.32", True),
        ("ubuntu", "==", "ubuntu", True),
        ("  ubuntu ", "==", "ubuntu", True),  # the measured value is trimmed
        ("24.04", "==", "24.04", True),
        ("24.4", "==", "24.04", False),  # `==` is the reference's exact match, as text
        ("Ubuntu", "==", "ubuntu", False),
        ("1.32.0", "!=", "1.32", False),  # `!=` compares versions when both parse
        ("v1.32.0", "!=", "1.32.0", False),
        ("rhel", "!=", "ubuntu", True),
    ],
)
def test_comparisons_as_the_reference_makes_them(actual: str, operator: str, expected: str, holds: bool) -> None:
    outcome = evaluate(operator, expected, actual)
    assert (outcome.passed, outcome.problem) == (holds, "")


def test_values_that_are_not_versions_cannot_be_ordered() -> None:
    assert evaluate(">=", "1.32", "unknown").problem == "the measured value 'unknown' is not a version"
    assert evaluate(">=", "latest", "1.32").problem == "the expected value 'latest' is not a version"


# ---- readiness of the shipped recipes against a real H200 node --------------------------------------


@pytest.mark.parametrize("recipe", [FLAGSHIP, H100_EKS], ids=["blackwell-eks-training", "h100-eks-training"])
def test_readiness_against_the_h200_node(recipe: Path) -> None:
    """Ubuntu 24.04 and kernel 6.18 hold; the node snapshot did not measure Kubernetes."""
    compiled = load_library(use_env=False).compile_file(recipe).recipe
    report = check_readiness(compiled, read_snapshot(H200), "h200.yaml")
    verdicts = {result.name: (result.status, result.actual) for result in report.results}
    assert verdicts == {
        K8S: ("skipped", None),
        "OS.release.ID": ("passed", "ubuntu"),
        "OS.release.VERSION_ID": ("passed", "24.04"),
        KERNEL: ("passed", "6.18.44-fc-v657-gpu"),
    }
    skipped = next(result for result in report.results if result.name == K8S)
    assert skipped.message == f"not measured: K8s.server was skipped: {ROOT_ONLY}"
    assert skipped.expected == "1.32.4" and skipped.layer == ("gb200-eks-training" if recipe == FLAGSHIP else "h100-eks")
    assert not report.passed


def test_the_flagship_table_exit_2_while_kubernetes_is_unmeasured(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = validate(
        capsys, "recipes/blackwell-eks-training.aicr", "--snapshot", "tests/fixtures/snapshots/h200-ubuntu-24.04.yaml"
    )
    assert (code, err) == (2, "")
    assert out == (
        "readiness: blackwell-eks-training (service=eks, accelerator=gb200, os=ubuntu, intent=training, platform=kubeflow)"
        " against tests/fixtures/snapshots/h200-ubuntu-24.04.yaml (node vm)\n"
        "STATUS   CONSTRAINT                            EXPECTED   MEASURED\n"
        "SKIPPED  K8s.server.version                    >= 1.32.4  -\n"
        f"         not measured: K8s.server was skipped: {ROOT_ONLY}\n"
        "PASSED   OS.release.ID                         == ubuntu  ubuntu\n"
        "PASSED   OS.release.VERSION_ID                 == 24.04   24.04\n"
        "PASSED   OS.sysctl./proc/sys/kernel/osrelease  >= 6.8     6.18.44-fc-v657-gpu\n"
        "3 passed, 0 failed, 1 skipped\n"
    )


def test_a_measured_cluster_that_meets_everything_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = with_kubernetes(tmp_path, "v1.32.9-eks-113cf36")
    code, out, _ = validate(capsys, str(FLAGSHIP), "--snapshot", str(snapshot), "--format", "json")
    assert code == 0
    assert set(statuses(out).values()) == {"passed"}
    assert json.loads(out)["summary"] == {"passed": 4, "failed": 0, "skipped": 0}


def test_a_failed_constraint_exits_1_and_says_what_was_measured(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = with_kubernetes(tmp_path, "v1.31.4-eks-113cf36")
    code, out, _ = validate(capsys, str(H100_EKS), "--snapshot", str(snapshot))
    assert code == 1
    assert "FAILED  K8s.server.version                    >= 1.32.4  v1.31.4-eks-113cf36\n" in out
    assert "        expected >= 1.32.4, measured v1.31.4-eks-113cf36\n" in out


def test_the_references_own_snapshot_of_a_debian_machine_fails_the_ubuntu_constraints(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = validate(capsys, str(FLAGSHIP), "--snapshot", str(DEBIAN), "--format", "json")
    assert code == 1
    assert statuses(out) == {K8S: "skipped", "OS.release.ID": "failed", "OS.release.VERSION_ID": "failed", KERNEL: "passed"}
    skipped = json.loads(out)["results"][0]
    assert skipped["message"] == "not measured: K8s.server has no reading `version`"  # the reference writes the subtype empty


def test_a_recipe_without_constraints_passes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    recipe = tmp_path / "none.aicr"
    recipe.write_text("recipe none { intent = training }\n", encoding="utf-8")
    compiled = load_library(use_env=False).compile_file(recipe).recipe
    report = check_readiness(compiled.model_copy(update={"constraints": []}), read_snapshot(H200), "h200.yaml")
    assert report.passed and report.results == ()


# ---- reports ---------------------------------------------------------------------------------------


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """One constraint of each verdict: K8s passes, the OS fails, the kernel is not measured."""
    data = to_data(read_snapshot(with_kubernetes(tmp_path, "v1.33.1-eks-1")))
    measurements: list[dict[str, Any]] = data["measurements"]  # type: ignore[assignment]
    for measurement in measurements:
        if measurement["type"] == "OS":
            measurement["subtypes"] = [
                {"subtype": "release", "data": {"ID": "ubuntu", "VERSION_ID": "22.04\x1b[31m"}},
                {"subtype": "sysctl", "data": {}, "context": {"skipped": "/proc/sys: no such folder"}},
            ]
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_ctrf_is_valid_against_the_ctrf_schema(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = validate(capsys, str(FLAGSHIP), "--snapshot", str(mixed), "--format", "ctrf")
    assert code == 1
    report = valid_ctrf(out)
    summary = report["results"]["summary"]
    assert (summary["tests"], summary["passed"], summary["failed"], summary["skipped"]) == (4, 2, 1, 1)
    tests = {test["name"]: test for test in report["results"]["tests"]}
    assert tests["OS.release.VERSION_ID == 24.04"]["status"] == "failed"
    assert tests["OS.sysctl./proc/sys/kernel/osrelease >= 6.8"]["status"] == "skipped"
    assert (
        tests["OS.sysctl./proc/sys/kernel/osrelease >= 6.8"]["message"] == "not measured: OS.sysctl was skipped: /proc/sys: no such folder"
    )
    assert tests["K8s.server.version >= 1.32.4"]["extra"] == {
        "constraint": K8S,
        "operator": ">=",
        "expected": "1.32.4",
        "actual": "v1.33.1-eks-1",
        "layer": "gb200-eks-training",
    }


def test_the_ctrf_schema_catches_what_it_should() -> None:
    """The schema is really applied: a report without its format marker, or with a status CTRF
    does not define, is refused."""
    schema = json.loads(CTRF_SCHEMA.read_text(encoding="utf-8"))
    good = {"reportFormat": "CTRF", "specVersion": "0.0.0", "results": {"tool": {"name": "x"}, "summary": {}, "tests": []}}
    for broken in ({**good, "reportFormat": "JUnit"}, {**good, "results": {**good["results"], "tests": [{"name": "a", "status": "ok"}]}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.Draft7Validator(schema).validate(broken)


def test_junit_is_well_formed_and_reads_back(mixed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "report.xml"
    code, out, _ = validate(capsys, str(FLAGSHIP), "--snapshot", str(mixed), "--format", "junit", "-o", str(out_file))
    assert (code, out) == (1, "")
    suites = ElementTree.parse(out_file).getroot()
    assert suites.tag == "testsuites" and (suites.get("tests"), suites.get("failures"), suites.get("skipped")) == ("4", "1", "1")
    suite = suites.find("testsuite")
    assert suite is not None and suite.get("name") == "readiness"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["recipe"] == "blackwell-eks-training" and properties["accelerator"] == "gb200"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert len(cases) == 4 and all(case.get("classname") == "readiness.blackwell-eks-training" for case in cases.values())
    failure = cases["OS.release.VERSION_ID == 24.04"].find("failure")
    assert failure is not None and failure.get("message") == "expected == 24.04, measured 22.04\\x1b[31m"  # ESC made visible
    skipped = cases["OS.sysctl./proc/sys/kernel/osrelease >= 6.8"].find("skipped")
    assert skipped is not None and "was skipped" in (skipped.get("message") or "")
    passed = cases["K8s.server.version >= 1.32.4"]
    assert list(passed) == []


def test_control_characters_never_reach_the_terminal(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = validate(capsys, str(FLAGSHIP), "--snapshot", str(mixed))
    assert "\x1b" not in out and "22.04\\x1b[31m" in out


# ---- criteria from a snapshot ----------------------------------------------------------------------


def _dimensions() -> dict[str, set[str]]:
    program = load_library(use_env=False).program
    return {name: {*d.values, *d.aliases} for name, d in program.dimensions.items()}


def _snapshot(**readings: dict[str, Any]) -> Snapshot:
    """A snapshot with the given readings by `TYPE_SUBTYPE=...`."""
    measurements: dict[str, list[dict[str, Any]]] = {}
    for name, data in readings.items():
        type_, subtype = name.split("_")
        measurements.setdefault(type_, []).append({"subtype": subtype, "data": data})
    return Snapshot.model_validate(
        {
            "kind": "Snapshot",
            "apiVersion": "aicr.nvidia.com/v1alpha1",
            "measurements": [{"type": t, "subtypes": s} for t, s in measurements.items()],
        }
    )


@pytest.mark.parametrize(
    ("model", "accelerator"),
    [
        ("NVIDIA H200", "h200"),
        ("NVIDIA H100 80GB HBM3", "h100"),
        ("NVIDIA GB200", "gb200"),  # not b200: the longest whole word wins
        ("NVIDIA B200", "b200"),
        ("NVIDIA A100-SXM4-80GB", "a100"),
        ("NVIDIA L40S", "l40s"),
        ("NVIDIA L40", "l40"),  # an alias of l40s
        ("NVIDIA GH200 480GB", None),  # Grace Hopper: no value names it, and h200 is not a whole word here
        ("Tesla T4", None),
    ],
)
def test_the_accelerator_from_the_gpu_model(model: str, accelerator: str | None) -> None:
    inferred = infer_criteria(_snapshot(GPU_smi={"gpu.model": model}), _dimensions())
    assert [(i.dimension, i.value, i.field) for i in inferred] == (
        [("accelerator", accelerator, "GPU.smi.gpu.model")] if accelerator else []
    )


@pytest.mark.parametrize(
    ("release", "os_"),
    [
        ({"ID": "ubuntu", "VERSION_ID": "24.04"}, "ubuntu"),
        ({"ID": "rhel", "VERSION_ID": "9.4"}, "rhel"),
        ({"ID": "amzn", "VERSION_ID": "2023"}, "al2023"),  # the alias the library has for it
        ({"ID": "amzn", "VERSION_ID": "2"}, "al2"),
        ({"ID": "debian", "VERSION_ID": "12"}, None),
    ],
)
def test_the_os_from_os_release(release: dict[str, str], os_: str | None) -> None:
    inferred = infer_criteria(_snapshot(OS_release=release), _dimensions())
    assert [(i.dimension, i.value) for i in inferred] == ([("os", os_)] if os_ else [])


@pytest.mark.parametrize(
    ("k8s", "service", "field"),
    [
        ({"K8s_node": {"provider-id": "aws:///us-east-1a/i-0abc"}}, "eks", "K8s.node.provider-id"),
        ({"K8s_node": {"provider-id": "gce://project/us-central1-a/gke-node"}}, "gke", "K8s.node.provider-id"),
        ({"K8s_node": {"provider-id": "azure:///subscriptions/x/virtualMachines/0"}}, "aks", "K8s.node.provider-id"),
        ({"K8s_node": {"provider-id": "oci://ocid1.instance.oc1"}}, "oke", "K8s.node.provider-id"),
        ({"K8s_node": {"provider-id": "kind://docker/kind/kind-worker"}}, "kind", "K8s.node.provider-id"),
        ({"K8s_server": {"version": "v1.30.4-gke.1348000"}}, "gke", "K8s.server.version"),
        ({"K8s_server": {"version": "v1.32.4"}}, None, ""),
    ],
)
def test_the_service_from_the_provider_id_or_the_server_version(k8s: dict[str, dict[str, Any]], service: str | None, field: str) -> None:
    inferred = infer_criteria(_snapshot(**k8s), _dimensions())
    assert [(i.dimension, i.value, i.field) for i in inferred] == ([("service", service, field)] if service else [])


def test_compile_from_a_snapshot_with_flags_overriding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = with_kubernetes(tmp_path, "v1.33.1-eks-1")
    assert main(["compile", "--snapshot", str(snapshot), "--intent", "training", "--format", "json"]) == 0
    captured = capsys.readouterr()
    compiled = json.loads(captured.out)
    assert compiled["metadata"]["criteria"] == {
        "service": "eks",
        "accelerator": "h200",
        "os": "ubuntu",
        "intent": "training",
        "platform": "kubeflow",
    }
    assert f"note: criteria from the snapshot {snapshot}\n" in captured.err
    assert '  accelerator = h200  from snapshot GPU.smi.gpu.model = "NVIDIA H200"\n' in captured.err
    assert '  service = eks  from snapshot K8s.node.provider-id = "aws:///us-east-1a/i-0123456789abcdef0"\n' in captured.err
    assert main(["compile", "--snapshot", str(snapshot), "--intent", "training", "--accelerator", "H100", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["metadata"]["criteria"]["accelerator"] == "h100"
    assert '  accelerator = H100  given by --accelerator, not snapshot GPU.smi.gpu.model = "NVIDIA H200"\n' in captured.err


def test_explain_shows_which_reading_chose_each_criterion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--snapshot", str(H200), "--intent", "training", "gpu-operator.driver.version"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith('gpu-operator.driver.version = "580.105.08"\n')
    assert captured.err.startswith(
        f"note: criteria from the snapshot {H200}\n"
        '  accelerator = h200  from snapshot GPU.smi.gpu.model = "NVIDIA H200"\n'
        '  os = ubuntu  from snapshot OS.release.ID = "ubuntu"\n'
        "  not in the snapshot: service\n"
    )


def test_validate_infers_the_recipe_from_the_snapshot_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = validate(capsys, "--snapshot", str(with_kubernetes(tmp_path, "v1.33.1-eks-1")), "--intent", "training")
    assert code == 0, out + err
    assert "readiness: eks-h200-ubuntu-training-kubeflow (service=eks, accelerator=h200, os=ubuntu" in out


# ---- what cannot be checked ------------------------------------------------------------------------


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = validate(capsys, str(FLAGSHIP))
    assert code == 2 and "--snapshot FILE is required" in err
    code, _, err = validate(capsys, str(FLAGSHIP), "--snapshot", str(H200), "--phase", "drift")
    assert code == 2 and "invalid choice: 'drift'" in err
    assert main(["compile", str(FLAGSHIP), "--snapshot", str(H200)]) == 2
    assert "--snapshot infers criteria in place of a recipe FILE" in capsys.readouterr().err


def test_inputs_that_cannot_be_read_exit_2_with_located_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Snapshot\napiVersion: aicr.nvidia.com/v2\nmeasurements: []\n", encoding="utf-8")
    code, out, err = validate(capsys, str(FLAGSHIP), "--snapshot", str(bad))
    assert (code, out) == (2, "")
    assert "error[E0903]: the snapshot is in format aicr.nvidia.com/v2" in err and f"--> {bad}:2:13" in err
    code, out, _ = validate(capsys, str(FLAGSHIP), "--snapshot", str(tmp_path / "missing.yaml"), "--format", "json")
    assert code == 2 and json.loads(out)["errors"][0]["code"] == "E0104"
    code, _, err = validate(capsys, str(tmp_path / "nope.aicr"), "--snapshot", str(H200))
    assert code == 2 and "E0104" in err
    code, _, err = validate(capsys, str(FLAGSHIP), "--snapshot", str(H200), "-o", str(tmp_path / "no" / "such" / "report.txt"))
    assert code == 2 and "error[E0104]: cannot write" in err  # not 1, which says a constraint does not hold
    code, _, err = validate(capsys, "--snapshot", str(H200), "--overlay", str(tmp_path / "no-such-overlay"))
    assert code == 2 and "error[" in err and "Traceback" not in err


# ---- the reference itself, with AICR_BIN -----------------------------------------------------------

AICR_BIN = os.environ.get("AICR_BIN", "")


@pytest.mark.skipif(not AICR_BIN, reason="AICR_BIN does not name the reference's aicr binary")
def test_the_references_readiness_reaches_the_same_verdicts(tmp_path: Path) -> None:
    """aicr's pre-flight logs each constraint passed or skipped, and stops at the first that fails."""
    (tmp_path / "recipe").mkdir()
    assert main(["compile", str(FLAGSHIP), "--format", "aicr", "-o", str(tmp_path / "recipe" / "recipe.yaml")]) == 0
    compiled = load_library(use_env=False).compile_file(FLAGSHIP).recipe
    for snapshot in (H200, DEBIAN):
        done = subprocess.run(
            [AICR_BIN, "validate", "--recipe", str(tmp_path / "recipe" / "recipe.yaml"), "--snapshot", str(snapshot), "--no-cluster"],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        theirs = {name: verdict for verdict, name in re.findall(r"readiness constraint (passed|skipped): name=(\S+)", done.stderr)}
        first_failure = re.search(r"readiness check failed: (\S+) expected", done.stderr + done.stdout)
        ours = check_readiness(compiled, read_snapshot(snapshot), snapshot.name).results
        failed = [result.name for result in ours if result.status == "failed"]
        if first_failure:
            assert done.returncode != 0 and failed and failed[0] == first_failure.group(1)
            ours = ours[: [r.name for r in ours].index(failed[0])]  # the reference stops there
        else:
            assert not failed
        assert theirs == {result.name: result.status for result in ours}
