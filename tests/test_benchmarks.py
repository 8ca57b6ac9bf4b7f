"""The benchmarks still run (their timings are the report's business, never a test's): the report
in its quick mode, and the synthetic libraries it measures, which must compile and lint clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aicrc.cli import main
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import synthetic


def test_the_report_runs_in_its_quick_mode(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AICRC_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "report.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = (tmp_path / "report.txt").read_text()
    for measure in ("compile, warm (yaml)", "compile, no cache", "in-process compile", "matrix", "exponent", "language server edit"):
        assert measure in report, measure
    assert (tmp_path / "scale.png").read_bytes().startswith(b"\x89PNG")


def test_a_synthetic_library_compiles_and_lints_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = synthetic.write_library(tmp_path, 60)
    monkeypatch.setenv("AICRC_STDLIB", str(tmp_path / "lib"))
    assert main(["compile", str(recipe), "--format", "json"]) == 0
    compiled = capsys.readouterr().out
    assert compiled.count('"wave"') == 60  # every component is used
    assert main(["check", str(tmp_path / "lib")]) == 0
    assert "0 finding(s)" in capsys.readouterr().out


def test_the_same_size_gives_the_same_library(tmp_path: Path) -> None:
    synthetic.write_library(tmp_path / "a", 30)
    synthetic.write_library(tmp_path / "b", 30)
    files = sorted(path.relative_to(tmp_path / "a") for path in (tmp_path / "a").rglob("*.aicr"))
    assert files and all((tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes() for path in files)
