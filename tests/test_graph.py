"""`aicrc graph`: the dependency graph with install waves, as JSON, Mermaid and DOT."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aicrc.cli import main
from tests.conftest import FLAGSHIP, ROOT

RECIPES = sorted((ROOT / "recipes").glob("*.aicr"))


def graph(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    assert main(["graph", *arguments]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("recipe", RECIPES, ids=[path.stem for path in RECIPES])
def test_json_waves_follow_the_needs(recipe: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(graph(capsys, str(recipe), "--format", "json"))
    compiled = json.loads(_compile(capsys, recipe))
    components = {c["name"]: c for c in data["components"]}
    assert [c["name"] for c in data["components"]] == compiled["deploymentOrder"]
    for component in data["components"]:
        expected = 1 + max((components[need]["wave"] for need in component["needs"]), default=-1)
        assert component["wave"] == expected
        assert all(components[need]["order"] < component["order"] for need in component["needs"])
        assert component["neededBy"] == [c["name"] for c in data["components"] if component["name"] in c["needs"]]
    assert data["waves"] == [[c["name"] for c in data["components"] if c["wave"] == wave] for wave in range(len(data["waves"]))]
    assert data["edges"] == [{"from": need, "to": c["name"]} for c in data["components"] for need in c["needs"]]


def _compile(capsys: pytest.CaptureFixture[str], recipe: Path) -> str:
    assert main(["compile", str(recipe), "--format", "json"]) == 0
    return capsys.readouterr().out


def test_flagship_waves(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(graph(capsys, str(FLAGSHIP), "--format", "json"))
    assert data["recipe"] == "blackwell-eks-training"
    assert data["waves"][1] == ["kube-prometheus-stack", "skyhook-customizations"]
    assert data["waves"][3] == ["kai-scheduler", "kubeflow-trainer", "nvidia-dra-driver-gpu", "nvsentinel"]
    gpu = next(c for c in data["components"] if c["name"] == "gpu-operator")
    assert gpu["chart"] == {"repository": "https://helm.ngc.nvidia.com/nvidia", "name": "gpu-operator", "version": "v25.10.1"}
    assert next(c for c in data["components"] if c["name"] == "skyhook-customizations")["chart"] is None


def test_mermaid_is_one_subgraph_per_wave_and_one_arrow_per_need(capsys: pytest.CaptureFixture[str]) -> None:
    text = graph(capsys, str(FLAGSHIP))  # mermaid is the default
    data = json.loads(graph(capsys, str(FLAGSHIP), "--format", "json"))
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert re.findall(r'subgraph (wave\d+)\["wave \d+"\]', text) == [f"wave{n}" for n in range(len(data["waves"]))]
    assert lines.count("    end") == len(data["waves"])
    nodes = dict(re.findall(r'^        (c_\w+)\["([a-z0-9-]+)"\]$', text, re.MULTILINE))
    assert sorted(nodes.values()) == sorted(c["name"] for c in data["components"])
    arrows = re.findall(r"^    (c_\w+) --> (c_\w+)$", text, re.MULTILINE)
    assert [{"from": nodes[a], "to": nodes[b]} for a, b in arrows] == data["edges"]


def test_dot_is_a_digraph_with_a_cluster_per_wave(capsys: pytest.CaptureFixture[str]) -> None:
    text = graph(capsys, str(FLAGSHIP), "--format", "dot")
    data = json.loads(graph(capsys, str(FLAGSHIP), "--format", "json"))
    assert text.startswith('digraph "blackwell-eks-training" {\n') and text.endswith("}\n")
    assert text.count("{") == text.count("}") == len(data["waves"]) + 1
    clusters = re.findall(r'subgraph cluster_wave(\d+) \{\n        label="wave \d+";\n((?:        "[a-z0-9-]+";\n)*)    \}', text)
    assert [[name for name in re.findall(r'"([a-z0-9-]+)"', body)] for _, body in clusters] == data["waves"]
    edges = re.findall(r'^    "([a-z0-9-]+)" -> "([a-z0-9-]+)";$', text, re.MULTILINE)
    assert [{"from": a, "to": b} for a, b in edges] == data["edges"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pydot 4 calls pyparsing's old names
def test_dot_parses_with_pydot(capsys: pytest.CaptureFixture[str]) -> None:
    pydot = pytest.importorskip("pydot", reason="pydot (a test extra) reads DOT with a real parser")
    text = graph(capsys, str(FLAGSHIP), "--format", "dot")
    data = json.loads(graph(capsys, str(FLAGSHIP), "--format", "json"))
    (parsed,) = pydot.graph_from_dot_data(text)
    edges = [(e.get_source().strip('"'), e.get_destination().strip('"')) for e in parsed.get_edges()]
    assert edges == [(e["from"], e["to"]) for e in data["edges"]]
    assert [s.get_name() for s in parsed.get_subgraphs()] == [f"cluster_wave{n}" for n in range(len(data["waves"]))]


def test_graph_of_a_compiled_file_and_of_criteria(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compiled = tmp_path / "flagship.json"
    assert main(["compile", str(FLAGSHIP), "--format", "json", "-o", str(compiled)]) == 0
    assert graph(capsys, "--compiled", str(compiled), "--format", "dot") == graph(capsys, str(FLAGSHIP), "--format", "dot")
    flags = ["--service", "eks", "--accelerator", "gb200", "--intent", "inference"]
    from_flags = json.loads(graph(capsys, *flags, "--format", "json"))
    assert main(["compile", *flags, "--format", "json"]) == 0
    assert [c["name"] for c in from_flags["components"]] == json.loads(capsys.readouterr().out)["deploymentOrder"]


def test_errors_follow_the_format(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.aicr"
    bad.write_text("recipe r { accelerator = gb2000 }")
    assert main(["graph", str(bad), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["errors"][0]["code"] == "E0304"
    assert main(["graph", str(bad)]) == 1
    assert "error[E0304]" in capsys.readouterr().err
