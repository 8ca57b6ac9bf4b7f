"""Text from a snapshot, made safe to show: a reading may hold tabs, newlines or escape sequences
that would break a table's row or drive the terminal, and characters XML 1.0 cannot carry."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def one_line(text: str) -> str:
    """Control characters (and the backslash) as escapes: `a\\tb`, `\\x1b[31m`."""
    return _CONTROL.sub(lambda match: _NAMED.get(match.group(), f"\\x{ord(match.group()):02x}"), text)


def xml_text(text: str) -> str:
    """Characters XML 1.0 forbids even escaped, as `\\xNN`; everything else as it is."""
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
