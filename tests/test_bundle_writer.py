"""Writing a bundle: all or nothing, never over a folder that holds something unless --force, and
then replaced in one step; a target that cannot be written is a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aicrc import diagnostics as diag
from aicrc.bundle import writer
from aicrc.bundle.files import Bundle
from aicrc.bundle.writer import write_bundle
from aicrc.cli import main
from tests.conftest import FLAGSHIP


def small_bundle(text: str = "new") -> Bundle:
    bundle = Bundle()
    bundle.add("README.md", text)
    bundle.add("a/b/c.yaml", "x: 1\n")
    bundle.add("run.sh", "#!/bin/sh\n", executable=True)
    return bundle


def contents(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def code_of(call: object) -> str:
    assert isinstance(call, diag.AicrcError)
    return call.diagnostics[0].code


def test_a_new_folder_and_its_parents_are_created(tmp_path: Path) -> None:
    write_bundle(small_bundle(), str(tmp_path / "deep" / "er" / "bundle"))
    assert contents(tmp_path / "deep" / "er" / "bundle") == {"README.md": "new", "a/b/c.yaml": "x: 1\n", "run.sh": "#!/bin/sh\n"}
    assert os.access(tmp_path / "deep" / "er" / "bundle" / "run.sh", os.X_OK)
    assert leftovers(tmp_path / "deep" / "er") == []


def test_modes_do_not_depend_on_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        write_bundle(small_bundle(), str(tmp_path / "bundle"))
    finally:
        os.umask(previous)
    modes = {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777 for p in sorted(tmp_path.rglob("*"))}
    folders, files, scripts = ("bundle", "bundle/a", "bundle/a/b"), ("bundle/README.md", "bundle/a/b/c.yaml"), ("bundle/run.sh",)
    assert modes == {path: 0o755 for path in folders + scripts} | {path: 0o644 for path in files}


def test_an_empty_folder_is_filled(tmp_path: Path) -> None:
    (tmp_path / "bundle").mkdir()
    write_bundle(small_bundle(), str(tmp_path / "bundle"))
    assert "README.md" in contents(tmp_path / "bundle")


def test_a_folder_with_something_in_it_is_refused_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "bundle"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    assert main(["bundle", str(FLAGSHIP), "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"error[E0801]: {target} is not empty" in err and "--force" in err
    assert contents(target) == {"keep.txt": "mine"}
    assert leftovers(tmp_path) == []


def test_force_replaces_the_folder_whole(tmp_path: Path) -> None:
    target = tmp_path / "bundle"
    write_bundle(small_bundle("old"), str(target))
    (target / "stray.txt").write_text("left by hand")
    write_bundle(small_bundle("new"), str(target), force=True)
    assert contents(target) == {"README.md": "new", "a/b/c.yaml": "x: 1\n", "run.sh": "#!/bin/sh\n"}
    assert leftovers(tmp_path) == []


def test_force_replaces_the_folder_where_the_os_cannot_swap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "_exchange", lambda first, second: False)
    target = tmp_path / "bundle"
    write_bundle(small_bundle("old"), str(target))
    write_bundle(small_bundle("new"), str(target), force=True)
    assert contents(target)["README.md"] == "new"
    assert leftovers(tmp_path) == []


def test_force_never_replaces_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "bundle"
    write_bundle(small_bundle("old"), str(target))
    monkeypatch.chdir(target / "a")
    with pytest.raises(diag.AicrcError) as caught:
        write_bundle(small_bundle("new"), str(target), force=True)
    assert code_of(caught.value) == "E0801" and "holds the current folder" in caught.value.diagnostics[0].message
    assert contents(target)["README.md"] == "old"


def test_a_failure_while_writing_leaves_the_target_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "bundle"
    write_bundle(small_bundle("old"), str(target))
    written: list[Path] = []
    real_write = writer._write_file

    def fail_on_the_second_file(path: Path, content: bytes, mode: int) -> None:
        written.append(path)
        if len(written) == 2:
            raise OSError(28, "No space left on device", str(path))
        real_write(path, content, mode)

    monkeypatch.setattr(writer, "_write_file", fail_on_the_second_file)
    for output in (target, tmp_path / "fresh"):
        written.clear()
        with pytest.raises(diag.AicrcError) as caught:
            write_bundle(small_bundle("new"), str(output), force=True)
        assert code_of(caught.value) == "E0802" and "No space left on device" in caught.value.diagnostics[0].message
    assert contents(target)["README.md"] == "old"
    assert not (tmp_path / "fresh").exists()
    assert leftovers(tmp_path) == []


def test_an_interruption_while_writing_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(path: Path, content: bytes, mode: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_write_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_bundle(small_bundle(), str(tmp_path / "bundle"))
    assert list(tmp_path.iterdir()) == []


def test_a_target_that_cannot_be_written_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / "file.txt" / "bundle")]) == 1
    err = capsys.readouterr().err
    assert f"error[E0802]: cannot write the bundle to {tmp_path / 'file.txt' / 'bundle'}: {tmp_path / 'file.txt'} is a file" in err
    assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / "file.txt")]) == 1
    assert "error[E0801]" in capsys.readouterr().err and (tmp_path / "file.txt").read_text() == "not a folder"


def test_a_read_only_parent_is_a_clear_error(tmp_path: Path) -> None:
    parent = tmp_path / "read-only"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        if os.access(parent, os.W_OK):
            pytest.skip("running as a user who may write anywhere (root)")
        with pytest.raises(diag.AicrcError) as caught:
            write_bundle(small_bundle(), str(parent / "bundle"))
        assert code_of(caught.value) == "E0802" and "Permission denied" in caught.value.diagnostics[0].message
    finally:
        parent.chmod(0o755)
