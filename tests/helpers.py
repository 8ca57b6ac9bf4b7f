"""Compiling small programs in tests, against the fixed test library (tests/golden/lib)."""

from __future__ import annotations

from pathlib import Path

import aicrc
from tests.conftest import GOLDEN


def library_with(tmp_path: Path, files: dict[str, str], monkeypatch) -> aicrc.Library:
    """The test library plus `files` as an overlay folder."""
    monkeypatch.setenv("AICRC_STDLIB", str(GOLDEN / "lib"))
    overlay = tmp_path / "overlay"
    for name, text in files.items():
        (overlay / name).parent.mkdir(parents=True, exist_ok=True)
        (overlay / name).write_text(text)
    overlay.mkdir(exist_ok=True)
    return aicrc.load_library([overlay], use_env=False)


def codes(failure: aicrc.AicrcError) -> list[str]:
    return [d.code for d in failure.diagnostics]


def deep_list(depth: int) -> str:
    """A list literal nested `depth` levels deep: `[[[]]]`."""
    return "[" * depth + "]" * depth


def column_of(text: str, marker: str, occurrence: int) -> int:
    """The 1-based column of the `occurrence`-th `marker` in a one-line `text`."""
    index = -1
    for _ in range(occurrence):
        index = text.index(marker, index + 1)
    return index + 1
