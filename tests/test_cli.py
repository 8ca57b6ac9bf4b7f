"""The command line as a user meets it: exit codes, help, output files, determinism, big inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aicrc.cli import main
from aicrc.version import __version__
from tests.conftest import FLAGSHIP, ROOT


def run_aicrc(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "aicrc", *args], capture_output=True, text=True, cwd=cwd, env=environment, timeout=60)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"aicrc {__version__}\n"


@pytest.mark.parametrize(
    "command",
    [[], ["compile"], ["explain"], ["query"], ["stats"], ["diff"], ["matrix"], ["schema"], ["fmt"], ["check"], ["lsp"], ["import"]],
)
def test_help_on_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0  # main() returns: no SystemExit escapes it
    out = capsys.readouterr().out
    assert "usage: aicrc" in out
    assert "exit codes:" in out and "3    internal error" in out


def test_no_command_prints_help_and_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--nonsense"]) == 2
    assert capsys.readouterr().err == "aicrc schema: error: unknown option --nonsense\nTry 'aicrc schema --help'.\n"


def test_output_file_is_written_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "compiled.yaml"
    assert main(["compile", str(FLAGSHIP), "-o", str(out)]) == 0
    first = out.read_text()
    assert first.startswith("apiVersion: aicrc/v1alpha1\n")

    bad = tmp_path / "bad.aicr"
    bad.write_text("recipe r { accelerator = gb2000 }")
    assert main(["compile", str(bad), "-o", str(out)]) == 1
    assert out.read_text() == first, "a failed compile must not touch the previous output"
    fresh = tmp_path / "fresh.yaml"
    assert main(["compile", str(bad), "-o", str(fresh)]) == 1
    assert not fresh.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no temporary files left behind"


def test_output_is_byte_identical_whatever_the_hash_seed(tmp_path: Path) -> None:
    outputs = set()
    for seed in ("0", "1", "12345"):
        result = run_aicrc("compile", str(FLAGSHIP), env={"PYTHONHASHSEED": seed, "AICRC_NO_CACHE": "1"})
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1


def test_output_does_not_depend_on_the_working_directory(tmp_path: Path) -> None:
    here = run_aicrc("compile", "recipes/blackwell-eks-training.aicr")
    elsewhere = run_aicrc("query", str(FLAGSHIP), "metadata.digest", cwd=tmp_path)
    assert elsewhere.returncode == 0
    assert f"digest: {elsewhere.stdout.strip()}" in here.stdout


def test_json_output_is_the_same_document(capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    assert main(["compile", str(FLAGSHIP)]) == 0
    as_yaml = yaml.safe_load(capsys.readouterr().out)
    assert main(["compile", str(FLAGSHIP), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == as_yaml


def test_criteria_flags_match_the_recipe_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "flagship.aicr"  # the flagship's criteria, without the opt-in features it enables
    recipe.write_text("recipe blackwell { service = eks  accelerator = gb200  os = ubuntu  intent = training }\n")
    assert main(["query", str(recipe), "components", "--format", "json"]) == 0
    from_file = json.loads(capsys.readouterr().out)
    argv = ["query", "components", "--format", "json", "--service", "eks", "--accelerator=gb200", "--os", "ubuntu", "--intent", "training"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == from_file


def test_ten_megabyte_input_fails_clearly_and_quickly(tmp_path: Path) -> None:
    huge = tmp_path / "huge.aicr"
    entries = "".join(f'    k{i} = "{"x" * 80}"\n' for i in range(110_000))
    huge.write_text("component c {\n namespace n\n values {\n" + entries + "}\n}\nrecipe r { }\n")
    assert huge.stat().st_size > 10_000_000
    start = time.perf_counter()
    result = run_aicrc("compile", str(huge))
    assert time.perf_counter() - start < 10
    assert result.returncode == 1
    assert "error[E0105]" in result.stderr and "Traceback" not in result.stderr


def test_criteria_file_errors_point_into_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    criteria = tmp_path / "criteria.yaml"
    criteria.write_text("kind: RecipeCriteria\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  service: eks\n  accelerator: gb2000\n")
    assert main(["compile", "--criteria", str(criteria)]) == 1
    err = capsys.readouterr().err
    assert "error[E0304]" in err and f"{criteria.as_posix()}:5:16" in err and "accelerator: gb2000" in err

    criteria.write_text("kind: Snapshot\n")
    assert main(["compile", "--criteria", str(criteria)]) == 1
    assert "expected `kind: RecipeCriteria`" in capsys.readouterr().err


def test_overlays_from_aicrc_path(tmp_path: Path) -> None:
    overlay = tmp_path / "acme"
    overlay.mkdir()
    (overlay / "acme.aicr").write_text('layer acme: platform when service == eks { set gpu-operator.driver.version = "acme" }')
    result = run_aicrc("query", str(FLAGSHIP), "components.gpu-operator.values.driver.version", env={"AICRC_PATH": str(overlay)})
    assert result.stdout == "acme\n"


def test_set_values_are_typed_as_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["query", str(FLAGSHIP), "components.gpu-operator.values.driver", "--format", "json"]
    assert main([*argv, "--set", "gpu-operator:driver.maxParallelUpgrades=7", "--set", "gpu-operator:driver.version='580'"]) == 0
    driver = json.loads(capsys.readouterr().out)
    assert driver["maxParallelUpgrades"] == 7 and driver["version"] == "580"


def test_malformed_set_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(FLAGSHIP), "--set", "gpu-operator.driver=1"]) == 1
    assert "error[E0601]" in capsys.readouterr().err


def test_errors_never_show_a_traceback(tmp_path: Path) -> None:
    for text in ["recipe", "recipe r {", '"', "}}}", "recipe r { set a = 1 }", "layer x: base when a >= b {}", "\x00"]:
        bad = tmp_path / "bad.aicr"
        bad.write_text(text)
        result = run_aicrc("compile", str(bad))
        assert result.returncode == 1, text
        assert result.stderr.startswith("error[E"), (text, result.stderr)
