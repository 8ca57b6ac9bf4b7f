"""Every file in tests/golden/cases/ is one case: inputs, the aicrc command, and its expected exit
code, stdout and stderr. `pytest --snapshot-update` rewrites the expectations; review the diff."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from aicrc.cli import main
from tests.conftest import GOLDEN
from tests.txtar import Case

CASES = sorted((GOLDEN / "cases").glob("*.txtar"))


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_case(
    case_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], update_goldens: bool
) -> None:
    case = Case.parse(case_file.read_text(encoding="utf-8"))
    for name, body in case.inputs.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body.encode("utf-8").replace(b"<NOT-UTF8>", b"\xff\xfe"))
    stdlib = tmp_path / "stdlib"
    monkeypatch.setenv("AICRC_STDLIB", str(stdlib if stdlib.is_dir() else GOLDEN / "lib"))
    monkeypatch.chdir(tmp_path)

    code = main(shlex.split(case.files["args"]))
    captured = capsys.readouterr()
    actual = {"exit": f"{code}\n", "stdout": captured.out, "stderr": captured.err}

    if update_goldens:
        for name in ("exit", "stdout", "stderr"):
            case.files.pop(name, None)
        case.files.update({name: value for name, value in actual.items() if value or name == "exit"})
        case_file.write_text(case.format(), encoding="utf-8")
        return
    expected = {name: case.files.get(name, "") for name in actual}
    assert actual == expected
