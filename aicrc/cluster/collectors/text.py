"""Splitting a node's files into entries, as the reference's file parser does: by a delimiter
(newline unless told), each entry trimmed, empty entries and `#` comments left out."""

from __future__ import annotations


def lines(text: str, delimiter: str = "\n") -> list[str]:
    entries = (entry.strip() for entry in text.split(delimiter))
    return [entry for entry in entries if entry and not entry.startswith("#")]
