"""`aicrc check` beyond the golden cases: our own library is clean, JSON and SARIF carry every
finding with its place, and each rule stays quiet on the correct form of what it flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aicrc.cli import main
from aicrc.tools.lint import CODES
from tests.conftest import GOLDEN, ROOT
from tests.txtar import Case


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


def test_the_library_and_recipes_are_clean(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out = _run(["check", "stdlib", "recipes"], capsys)
    assert (code, out.splitlines()[-1]) == (0, "0 finding(s) in 42 file(s) checked")


def _findings_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = Case.parse((GOLDEN / "cases" / "check-findings.txtar").read_text(encoding="utf-8"))
    for name, body in case.inputs.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.setenv("AICRC_STDLIB", str(GOLDEN / "lib"))
    monkeypatch.chdir(tmp_path)


def test_json_and_sarif_carry_every_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _findings_case(tmp_path, monkeypatch)
    code, out = _run(["check", "--format", "json", "lib.aicr"], capsys)
    findings = json.loads(out)["findings"]
    assert code == 1
    assert sorted({f["code"] for f in findings}) == sorted(CODES)  # the case exercises every rule
    code, out = _run(["check", "--format", "sarif", "lib.aicr"], capsys)
    sarif = json.loads(out)
    run = sarif["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert (sarif["version"], rule_ids) == ("2.1.0", list(CODES))
    assert len(run["results"]) == len(findings)
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] in ("lib.aicr", "m/old.yaml", "m/broken.yaml")
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1


QUIET = """\
component widget {
    chart widget from "https://example.com/charts" version "v1.2.3-rc.1"
    namespace widgets
    values {
        image { repository = "example.com/widget", tag = "1.0" }
        replicas = 2
    }
}
feature used { set widget.replicas = 1 }
layer a: environment when service in [eks, gke] and not (intent == training) {
    use widget
    enable used
    set widget.image.tag = "1.1"
}
layer b: environment when service == eks and intent == inference {
    set widget.replicas = 3
}
layer c: platform when platform == dynamo and intent == inference {
    set widget.replicas = 4
}
"""


def test_rules_are_quiet_on_correct_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Close misses of every rule: other layers' keys, different predicates, pinned versions, a
    layer reachable only through a default (platform follows intent)."""
    (tmp_path / "lib.aicr").write_text(QUIET, encoding="utf-8")
    monkeypatch.setenv("AICRC_STDLIB", str(GOLDEN / "lib"))
    monkeypatch.chdir(tmp_path)
    code, out = _run(["check", "lib.aicr"], capsys)
    assert (code, out) == (0, "0 finding(s) in 1 file(s) checked\n")


@pytest.mark.parametrize("name", ["0-first.aicr", "z-last.aicr"])
def test_a_layer_twin_of_a_library_layer_is_reported_whichever_sorts_first(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The golden library has `layer eks: environment when service == eks`; a checked file's twin
    of it is reported at the checked layer, wherever its file name sorts against the library's."""
    (tmp_path / name).write_text('layer twin: environment when service == eks {\n    set gpu-operator.driver.version = "1"\n}\n')
    monkeypatch.setenv("AICRC_STDLIB", str(GOLDEN / "lib"))
    monkeypatch.chdir(tmp_path)
    code, out = _run(["check", "--format", "json", name], capsys)
    findings = json.loads(out)["findings"]
    assert code == 1
    assert [(f["code"], f["location"]["file"], f["location"]["line"]) for f in findings] == [("L0104", name, 1)]
