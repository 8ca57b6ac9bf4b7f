"""How `aicrc` reads its command line: options anywhere, dimension flags declared from the loaded
library (overlays included), unknown options as usage errors with a suggestion, one set of exit
codes, and no library loaded for commands that take no criteria."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aicrc.cli import main
from aicrc.cli.exits import ExitCode
from tests.conftest import FLAGSHIP, ROOT


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    """An overlay that adds an accelerator value and a layer for it."""
    overlay = tmp_path / "acme"
    overlay.mkdir()
    (overlay / "acme.aicr").write_text(
        "extend dimension accelerator { values mi300 }\n"
        'layer acme: hardware when accelerator == mi300 { set gpu-operator.driver.version = "acme-1" }\n'
    )
    return overlay


def test_exit_codes_are_one_enum() -> None:
    assert [int(code) for code in (ExitCode.OK, ExitCode.INPUT_ERROR, ExitCode.USAGE_ERROR, ExitCode.INTERNAL_ERROR)] == [0, 1, 2, 3]
    assert ExitCode.INTERRUPTED == 130
    # the yes-or-no commands name the same codes for what they mean there
    assert ExitCode.DIFFERENT is ExitCode.FINDINGS is ExitCode.WOULD_CHANGE is ExitCode.INPUT_ERROR
    assert ExitCode.COULD_NOT_RUN is ExitCode.USAGE_ERROR


def test_options_may_stand_between_positional_arguments(acme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = acme.parent / "recipe.aicr"
    recipe.write_text("recipe r { service = eks  accelerator = mi300 }")
    argv = ["query", str(recipe), "--overlay", str(acme), "components.gpu-operator.values.driver.version"]
    assert main(argv) == 0
    assert capsys.readouterr().out == "acme-1\n"
    assert main(["explain", str(recipe), "--overlay", str(acme), "gpu-operator.driver.version", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["values"][0]["value"] == "acme-1"


def test_unknown_option_suggests_a_real_option_of_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(FLAGSHIP), "--formt", "json"]) == ExitCode.USAGE_ERROR
    assert capsys.readouterr().err == (
        "aicrc compile: error: unknown option --formt (did you mean --format?)\nTry 'aicrc compile --help'.\n"
    )
    assert main(["check", "stdlib", "--overlya", "x"]) == ExitCode.USAGE_ERROR
    assert "unknown option --overlya (did you mean --overlay?)" in capsys.readouterr().err


def test_dimension_flags_come_from_the_loaded_library(acme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a value the overlay adds is accepted ...
    argv = ["query", "--overlay", str(acme), "--service", "eks", "--accelerator", "mi300", "components.gpu-operator.values.driver.version"]
    assert main(argv) == 0
    assert capsys.readouterr().out == "acme-1\n"
    # ... and without the overlay it is the compiler's located error, with its suggestion
    assert main(["compile", "--service", "eks", "--accelerator", "mi30"]) == ExitCode.INPUT_ERROR
    err = capsys.readouterr().err
    assert "error[E0304]: `mi30` is not a value of dimension `accelerator` (--accelerator)" in err
    # a dimension the library does not have is an unknown option, suggested from the real flags
    assert main(["compile", "--service", "eks", "--gpu", "h100"]) == ExitCode.USAGE_ERROR
    assert "unknown option --gpu\n" in capsys.readouterr().err
    assert main(["compile", "--servce", "eks"]) == ExitCode.USAGE_ERROR
    assert "unknown option --servce (did you mean --service?)" in capsys.readouterr().err


def test_any_leaves_a_dimension_unset(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["query", "metadata.criteria", "--format", "json", "--service", "eks", "--accelerator", "gb200"]
    assert main([*argv, "--os", "any"]) == 0
    with_any = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    assert with_any == json.loads(capsys.readouterr().out)


def test_help_of_a_compiling_command_lists_the_dimensions_overlays_included(acme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--help", "--overlay", str(acme)]) == 0
    out = capsys.readouterr().out
    assert "--service VALUE" in out and "mi300" in out


def test_an_overlay_that_does_not_load_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.aicr").write_text("layer {")
    assert main(["compile", str(FLAGSHIP), "--overlay", str(broken)]) == ExitCode.INPUT_ERROR
    assert capsys.readouterr().err.startswith("error[E01")


@pytest.mark.parametrize(
    "argv",
    [["fmt", "--help"], ["check", "--help"], ["schema", "--help"], ["diff", "--help"], ["matrix", "--help"], ["lsp", "--help"]],
)
def test_commands_without_criteria_never_load_the_library_to_parse(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_library(*args: object, **kwargs: object) -> None:
        raise AssertionError("the library was loaded")

    monkeypatch.setattr("aicrc.api.load_library", no_library)
    assert main(argv) == 0
    assert "--service" not in capsys.readouterr().out


def test_version_and_help_are_answered_without_importing_the_compiler() -> None:
    probe = "import sys, aicrc.cli; aicrc.cli.main(sys.argv[1:]); print(sorted(m for m in sys.modules if m.startswith('aicrc.compiler')))"
    for argv in (["--version"], ["--help"], ["fmt", "--help"]):
        result = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert result.stdout.splitlines()[-1] == "[]", argv


def test_unknown_command_suggests_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compil", str(FLAGSHIP)]) == ExitCode.USAGE_ERROR
    assert capsys.readouterr().err == "aicrc: error: unknown command 'compil' (did you mean 'compile'?)\nTry 'aicrc --help'.\n"


def test_usage_errors_of_argparse_itself_do_not_exit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(FLAGSHIP), "--format", "xml"]) == ExitCode.USAGE_ERROR
    assert "invalid choice: 'xml'" in capsys.readouterr().err
    assert main(["diff", "only-one.aicr"]) == ExitCode.USAGE_ERROR
    assert "the following arguments are required: B" in capsys.readouterr().err
    assert main(["compile", "--service"]) == ExitCode.USAGE_ERROR
    assert "--service: expected one argument" in capsys.readouterr().err


def test_each_command_is_declared_by_the_module_the_table_names() -> None:
    # a command line naming one command builds that command's parser alone, from its module
    from aicrc.cli import app

    for name in app.COMMANDS:
        _, commands = app._parsers(name)
        assert list(commands) == [name]
    _, everything = app._parsers()
    assert list(everything) == list(app.COMMANDS)


def test_a_command_line_imports_only_its_own_command_module() -> None:
    probe = "import sys; from aicrc.cli import main; main(['fmt', '--help']); print(sorted(m for m in sys.modules if 'cli.' in m))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = done.stdout.strip().splitlines()[-1]
    assert "aicrc.cli.fmt" in loaded
    for other in ("aicrc.cli.bundle", "aicrc.cli.snapshot", "aicrc.cli.serve", "aicrc.cli.validate"):
        assert other not in loaded
