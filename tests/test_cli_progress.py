"""`aicrc matrix` shows a progress bar on stderr while a person watches a terminal, and prints
nothing extra to a pipe or a log."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from aicrc.cli import main
from tests.conftest import GOLDEN, ROOT

COMBINATIONS = 48  # the golden library: 3 services x 4 accelerators x 2 intents x 2 platforms


@pytest.fixture(autouse=True)
def _small_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AICRC_STDLIB", str(GOLDEN / "lib"))


def test_a_terminal_sees_a_progress_bar(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["matrix"]) == 0
    captured = capsys.readouterr()
    assert f"compiling:   0%|          | 0/{COMBINATIONS}" in captured.err
    assert captured.out.endswith(f"{COMBINATIONS} combinations: {COMBINATIONS} compile ({COMBINATIONS} with warnings), 0 fail\n")


def test_a_pipe_gets_nothing_extra(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert len(captured.out.splitlines()) == 1 + COMBINATIONS + 1  # header, rows, summary


def test_a_real_terminal() -> None:
    """The same through a pseudo-terminal, as a user runs it: the bar on stderr, the table on stdout."""
    pty = pytest.importorskip("pty")
    termios = pytest.importorskip("termios")
    controller, terminal = pty.openpty()
    termios.tcsetwinsize(terminal, (24, 80))  # a new pseudo-terminal is 0 columns wide: no room for a bar
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AICRC_STDLIB": str(GOLDEN / "lib")}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "aicrc", "matrix"], stdout=subprocess.PIPE, stderr=terminal, text=True, env=env, timeout=60
        )
        os.close(terminal)
        shown = b""
        while chunk := _read(controller):
            shown += chunk
    finally:
        os.close(controller)
    assert result.returncode == 0
    assert f"/{COMBINATIONS}".encode() in shown
    assert "compiling" not in result.stdout


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the terminal's other side is closed and everything has been read
        return b""
