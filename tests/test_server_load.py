"""benchmarks/server_load.py runs (in its quick mode, a few seconds): CI keeps it working without
timing anything. Its figures are measured by hand, on a quiet machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

ROUTES = {"GET /v1/recipe", "POST /v1/compile (memo)", "POST /v1/compile (fresh)"}


def test_the_load_benchmark_runs(tmp_path: Path) -> None:
    report = tmp_path / "load.json"
    environment = {key: value for key, value in os.environ.items() if key != "AICRD_BIN"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "server_load.py"), "--quick", "--json", str(report)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=environment,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads(report.read_text())
    assert {(r["route"], r["load"]) for r in results} == {(route, load) for route in ROUTES for load in ("20/s", "saturation")}
    assert all(r["server"] == "aicrc" and r["ok"] > 0 and r["failed"] == 0 and r["p99_ms"] >= r["p50_ms"] > 0 for r in results), results
    assert "saturation, memoized GET /v1/recipe:" in result.stdout
