"""Compiling small programs in tests, against the fixed test library (tests/golden/lib)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

import aicrc
from tests.conftest import GOLDEN, ROOT

# The CTRF report schema (its licence beside it), which `aicrc validate --format ctrf` must meet.
CTRF_SCHEMA = ROOT / "tests" / "fixtures" / "snapshots" / "ctrf" / "ctrf-schema-0.0.json"


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


def valid_ctrf(text: str) -> dict[str, Any]:
    """A CTRF report read from `text`, having passed the CTRF schema with its formats checked."""
    report: dict[str, Any] = json.loads(text)
    schema = json.loads(CTRF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(report)
    return report
