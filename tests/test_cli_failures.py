"""Nothing escapes `aicrc`'s main(): a bug is one line naming the failing step (exit 3; the
traceback only with AICRC_DEBUG=1), Ctrl-C is exit 130, and a reader that stops early (`| head`)
is no error at all."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aicrc.cli import main
from aicrc.cli.exits import ExitCode
from tests.conftest import FLAGSHIP, ROOT


def _raise(exception: BaseException) -> Callable[..., ExitCode]:
    def handler(*args: object, **kwargs: object) -> ExitCode:
        raise exception

    return handler


def test_an_unexpected_exception_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AICRC_DEBUG", raising=False)
    monkeypatch.setattr("aicrc.api.Library.compile_file", _raise(ValueError("boom\nsecond line")))
    assert main(["compile", str(FLAGSHIP)]) == ExitCode.INTERNAL_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "aicrc compile: internal error while compiling: ValueError: boom; "
        "please report this bug with the command you ran (AICRC_DEBUG=1 shows the traceback)"
    ]


def test_the_failing_step_is_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("aicrc.api.load_library", _raise(RuntimeError("no")))
    assert main(["compile", str(FLAGSHIP)]) == ExitCode.INTERNAL_ERROR
    assert capsys.readouterr().err.startswith("aicrc compile: internal error while loading the library: RuntimeError: no;")
    monkeypatch.setattr("aicrc.cli.fmt.run", _raise(KeyError("k")))
    assert main(["fmt", "stdlib"]) == ExitCode.INTERNAL_ERROR
    assert capsys.readouterr().err.startswith("aicrc fmt: internal error while formatting: KeyError: 'k';")


def test_aicrc_debug_adds_the_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AICRC_DEBUG", "1")
    monkeypatch.setattr("aicrc.cli.schema.run", _raise(ValueError("boom")))
    assert main(["schema"]) == ExitCode.INTERNAL_ERROR
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "ValueError: boom\n" in err
    assert err.splitlines()[-1].startswith("aicrc schema: internal error while writing the schema: ValueError: boom;")


def test_the_installed_command_prints_no_traceback_for_a_bug(tmp_path: Path) -> None:
    # A bug planted from outside the process under test: sitecustomize breaks compile_file.
    (tmp_path / "sitecustomize.py").write_text(
        "import aicrc.api\n"
        "def broken(*args, **kwargs):\n"
        "    raise ZeroDivisionError('division by zero')\n"
        "aicrc.api.Library.compile_file = broken\n"
    )
    # A cache of its own: the bug is code no digest of aicrc's files sees, and a compile of the same
    # command line recorded earlier in the session would be replayed instead of running into it.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]), "AICRC_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("AICRC_DEBUG", None)
    result = subprocess.run([sys.executable, "-m", "aicrc", "compile", str(FLAGSHIP)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "internal error while compiling: ZeroDivisionError" in result.stderr


def test_ctrl_c_is_exit_130_quietly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("aicrc.cli.schema.run", _raise(KeyboardInterrupt()))
    assert main(["schema"]) == ExitCode.INTERRUPTED == 130
    assert capsys.readouterr() == ("", "")


def test_a_broken_pipe_is_quiet(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("aicrc.cli.schema.run", _raise(BrokenPipeError()))
    assert main(["schema"]) == ExitCode.OK
    assert capsys.readouterr().err == ""


def test_a_reader_that_closed_the_pipe_gets_no_traceback() -> None:
    """`aicrc compile x | head -1`, made certain: the reading end is closed before aicrc writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "aicrc", "compile", str(FLAGSHIP)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 0
