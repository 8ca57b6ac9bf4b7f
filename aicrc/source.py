"""Source files and positions: the one vocabulary every stage uses to point at the user's text."""

from __future__ import annotations

import hashlib
from pathlib import Path

from aicrc.records import Record


class Span(Record):
    """A region of a source file. Lines and columns are 1-based; the end is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class SourceFile(Record):
    """A file's text and the name users see for it.

    `display` is stable across machines (``stdlib/layers/eks.aicr``, or the path as the user typed
    it), so diagnostics, provenance and digests never depend on where the checkout lives.
    """

    display: str
    text: str
    path: Path | None = None

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)


def text_sha256(text: str) -> str:
    """The sha256 of a text's UTF-8 bytes, in hex: how files and their parsed or checked forms are
    found by content."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
