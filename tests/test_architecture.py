"""The package's layering is a test: each import-linter contract in pyproject.toml holds on the
real tree, and breaks when one import that violates it is added to a copy of the package (so a
contract that could never fail would fail here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# contract id -> the imports that break it: (module file to edit, the line to add)
VIOLATIONS = {
    "rooms": [("aicrc/api.py", "import aicrc.cli")],
    "stages": [("aicrc/compiler/syntax/ast.py", "import aicrc.compiler.emit.text")],
    "foundation": [("aicrc/diagnostics.py", "import aicrc.compiler.syntax.ast")],
    "acyclic": [("aicrc/tools/stats.py", "import aicrc.tools.diff"), ("aicrc/tools/diff.py", "import aicrc.tools.stats")],
}


def _lint(root: Path, contract: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(root / "pyproject.toml"), "--contract", contract, "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layout")
    shutil.copytree(ROOT / "aicrc", root / "aicrc", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_every_contract_is_exercised() -> None:
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert sorted(c["id"] for c in contracts) == sorted(VIOLATIONS)


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_contract_holds(contract: str) -> None:
    result = _lint(ROOT, contract)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_contract_catches_a_violation(contract: str, package_copy: Path) -> None:
    originals = {}
    for module, line in VIOLATIONS[contract]:
        path = package_copy / module
        originals[path] = path.read_text()
        path.write_text(f"{originals[path]}\n{line}  # a deliberate violation\n")
    try:
        result = _lint(package_copy, contract)
    finally:
        for path, text in originals.items():
            path.write_text(text)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 1 broken" in result.stdout
