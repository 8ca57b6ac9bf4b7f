"""`aicrc check` on the library gives one clean result however the folder is spelt: `stdlib` from
the checkout, `/abs/path/stdlib` from anywhere, `.` from inside it. One file reached by two
spellings is one file, both when the library is the checkout's own `stdlib/` and when aicrc is
installed with a copy of it (the checkout's files then stand in for the installed ones)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aicrc.cli import main
from tests.conftest import ROOT

STDLIB = ROOT / "stdlib"


def _check(argv: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    code = main(["check", *argv])
    return code, capsys.readouterr().out


def _spellings(tmp_path: Path) -> list[tuple[list[str], Path]]:
    return [(["stdlib"], ROOT), ([str(STDLIB)], tmp_path), (["."], STDLIB)]


def test_every_spelling_of_the_library_folder_is_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results = {tuple(argv): _check(argv, cwd, monkeypatch, capsys) for argv, cwd in _spellings(tmp_path)}
    for argv, (code, out) in results.items():
        assert code == 0, (argv, out)
        assert "E0203" not in out
    assert len({out for _, out in results.values()}) == 1, results


def test_every_spelling_is_clean_with_an_installed_copy_of_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = tmp_path / "site-packages" / "aicrc" / "stdlib"
    shutil.copytree(STDLIB, installed, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("AICRC_STDLIB", str(installed))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    results = {tuple(argv): _check(argv, cwd, monkeypatch, capsys) for argv, cwd in _spellings(elsewhere)}
    for argv, (code, out) in results.items():
        assert code == 0, (argv, out)
        assert "E0203" not in out
    assert len({out for _, out in results.values()}) == 1, results


def test_a_checkout_file_with_a_finding_is_reported_under_the_library_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stand-in is really checked (not the installed copy): a finding in it is reported."""
    checkout = tmp_path / "checkout" / "stdlib"
    shutil.copytree(STDLIB, checkout, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("AICRC_STDLIB", str(STDLIB))
    features = checkout / "features.aicr"
    features.write_text(features.read_text() + "\nfeature never-enabled { set gpu-operator.cdi.enabled = true }\n")
    code, out = _check([str(checkout)], tmp_path, monkeypatch, capsys)
    assert code == 1
    assert "L0102" in out and "<stdlib>/features.aicr" in out and "E0203" not in out
