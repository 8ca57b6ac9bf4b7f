"""String literals are JSON strings: what may not stand in one, and where (raw control characters,
unknown escapes, half a surrogate pair)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from aicrc.records import Record

# The escapes JSON has, an escape it does not have, and raw control characters (U+0000-U+001F,
# U+007F), which would reach YAML and JSON output unescaped or not at all.
_STRING_PIECE = re.compile(r'\\u(?P<hex>[0-9a-fA-F]{4})|\\["\\/bfnrt]|(?P<bad>\\[^\x00-\x1f\x7f])|(?P<control>[\x00-\x1f\x7f])')
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPES = {"\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
_ESCAPE_LIST = '`\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` and `\\uXXXX`'


class StringMistake(Record):
    """A mistake in a string literal as written, `offset` characters from its opening quote."""

    offset: int
    width: int
    code: str
    message: str
    help: str


def string_mistakes(literal: str) -> Iterator[StringMistake]:
    """The mistakes in a string literal (quotes included): control characters, escapes JSON does
    not have, and halves of a surrogate pair (`\\ud83d\\ude00`) without the other half, which no
    UTF-8 output can hold."""
    high: re.Match[str] | None = None  # a high surrogate escape, until its low half follows
    for piece in _STRING_PIECE.finditer(literal):
        code = int(piece["hex"], 16) if piece["hex"] else None
        low = code is not None and 0xDC00 <= code <= 0xDFFF
        if high is not None:
            paired = low and piece.start() == high.end()
            if not paired:
                yield _lone_surrogate(high)
            high = None
            if paired:
                continue
        if code is not None and 0xD800 <= code <= 0xDBFF:
            high = piece
        elif low:
            yield _lone_surrogate(piece)
        elif piece["bad"]:
            yield StringMistake(
                piece.start(), 2, "E0110", f"unknown escape `{piece['bad']}` in a string", f"the escapes are {_ESCAPE_LIST}"
            )
        elif piece["control"]:
            char = piece["control"]
            escape = _ESCAPES.get(char, f"\\u{ord(char):04x}")
            yield StringMistake(piece.start(), 1, "E0109", f"control character U+{ord(char):04X} in a string", f"write it as `{escape}`")
    if high is not None:
        yield _lone_surrogate(high)


def _lone_surrogate(piece: re.Match[str]) -> StringMistake:
    return StringMistake(
        piece.start(),
        6,
        "E0110",
        f"`{piece.group()}` is half of a surrogate pair",
        "write the character itself, or both halves (`\\ud83d\\ude00`), or `\\uXXXX` for a character outside U+D800-U+DFFF",
    )
