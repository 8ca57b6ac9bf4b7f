"""Solving: deployment order, waves, missing dependencies, cycles, and the plan cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import aicrc
from tests.conftest import ROOT
from tests.helpers import codes, library_with


def test_order_is_topological_and_alphabetical_among_ready_components() -> None:
    compiled = aicrc.compile_file(ROOT / "recipes" / "blackwell-eks-training.aicr")
    order = compiled.document["deploymentOrder"]
    position = {name: i for i, name in enumerate(order)}
    waves = {c["name"]: c["wave"] for c in compiled.document["components"]}
    for component in compiled.document["components"]:
        for dependency in component["needs"]:
            assert position[dependency] < position[component["name"]]
            assert waves[dependency] < waves[component["name"]]
        expected_wave = 1 + max((waves[d] for d in component["needs"]), default=-1)
        assert component["wave"] == expected_wave
    # with nothing left to wait for, the alphabetically first ready component goes next
    assert order[:3] == ["aws-ebs-csi-driver", "aws-efa", "cert-manager"]
    assert [c["name"] for c in compiled.document["components"]] == order


def test_cycle_names_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"l.aicr": "layer l: base { needs cert-manager: trainer  use trainer }"}
    with pytest.raises(aicrc.AicrcError) as caught:
        library_with(tmp_path, files, monkeypatch).compile({})
    (problem,) = caught.value.diagnostics
    assert problem.code == "E0502"
    assert problem.message == "dependency cycle: cert-manager -> trainer -> gpu-operator -> cert-manager"
    assert len(problem.labels) == 2


def test_missing_and_dropped_dependencies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layers = """
    layer l: environment when service == kind { use runtime }
    layer d: environment when service == gke { drop cert-manager }
    """
    files = {"l.aicr": layers}
    library = library_with(tmp_path, files, monkeypatch)
    with pytest.raises(aicrc.AicrcError) as caught:
        library.compile({"service": "kind"})
    assert codes(caught.value) == ["E0501"]
    with pytest.raises(aicrc.AicrcError) as caught:
        library.compile({"service": "gke"})
    assert codes(caught.value) == ["E0503"]


def test_a_warm_compile_imports_neither_lark_nor_networkx(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AICRC_CACHE_DIR": str(tmp_path)}
    script = (
        "import sys, aicrc.cli\n"
        "aicrc.cli.main(['compile', 'recipes/blackwell-eks-training.aicr', '-o', sys.argv[1]])\n"
        "print(sorted(m for m in ('lark', 'networkx', 'pydantic') if m in sys.modules))\n"
    )
    out = str(tmp_path / "out.yaml")
    cold = subprocess.run([sys.executable, "-c", script, out], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    warm = subprocess.run([sys.executable, "-c", script, out], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    assert cold.stdout.strip() == "['lark']"  # networkx only names a cycle: solving needs none of it
    assert warm.stdout.strip() == "[]"
