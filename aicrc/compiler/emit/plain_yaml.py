"""The compiled document as YAML, written without PyYAML when its text is plain ASCII.

Importing PyYAML costs a process 16 ms (its reader compiles a large Unicode pattern), more than
compiling the flagship recipe. A compiled document is maps, lists and scalars: names, versions,
quantities and image references on one line, and manifests of several lines. For such documents
this module writes exactly what `yaml.dump` writes with the options of `text.to_yaml` (block
style, lists under keys not indented, `|` blocks for text of several lines, width 120), and for
anything else (text that is not printable ASCII, a string YAML would fold or double-quote, a list
or map that appears twice and would get an anchor) it gives up, and PyYAML writes the document.
`tests/test_plain_yaml.py` holds it to PyYAML's text for every shipped recipe and for random
documents and strings.
"""

from __future__ import annotations

import re
from typing import Any

# YAML 1.1's scalar types (yaml.org/type) as PyYAML's resolver reads them: a string matching one is
# quoted, else it would read back as a boolean (PyYAML leaves out `y` and `n`), number, null or
# date, or as the merge (`<<`), value (`=`) or tag keys.
_OTHER_TYPE = re.compile(
    r"""(?x)
    yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    | ~|null|Null|NULL
    | [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
    | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    | [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)? | \.[0-9_]+(?:[eE][-+][0-9]+)?
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    | [0-9]{4}-[0-9]{2}-[0-9]{2}
    | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?
      (?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?
    | << | = | ! | & | \*
    """
)
_INDICATORS = "#,[]{}&*!|>'\"%@`"  # a plain scalar cannot start with one of these
_WIDTH = 120  # where PyYAML folds a scalar at a space; this module never folds
_LONGEST_KEY = 127  # PyYAML writes a longer key as a complex key (`? key`)


class _NotPlainError(Exception):
    """Something in the document is not in the subset this module writes."""


def dump(document: dict[str, Any]) -> str | None:
    """The text `yaml.dump` writes for this document, or None when PyYAML must write it."""
    if type(document) is not dict or not document:
        return None
    writer = _Writer()
    try:
        writer.mapping(document, 0)
    except _NotPlainError:
        return None
    return "".join(writer.out)


class _Writer:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.seen: set[int] = set()  # the lists and maps written: one seen twice would get an anchor

    def mapping(self, mapping: dict[str, Any], indent: int) -> None:
        """A non-empty map whose first key goes where the text ends now, at column `indent`."""
        self._remember(mapping)
        out = self.out
        first = True
        for key, value in mapping.items():
            if type(key) is not str or len(key) > _LONGEST_KEY:
                raise _NotPlainError
            written = _one_line(key)  # a key is never folded
            if not first:
                out.append(" " * indent)
            first = False
            out.append(written + ":")
            if type(value) is dict and value:
                out.append("\n" + " " * (indent + 2))
                self.mapping(value, indent + 2)
            elif type(value) is list and value:
                out.append("\n" + " " * indent)  # lists under a key are not indented
                self.sequence(value, indent)
            else:
                out.append(" ")
                self.scalar(value, indent + len(written) + 2, indent + 2)

    def sequence(self, sequence: list[Any], indent: int) -> None:
        """A non-empty list whose first dash goes where the text ends now, at column `indent`."""
        self._remember(sequence)
        out = self.out
        for index, item in enumerate(sequence):
            if index:
                out.append(" " * indent)
            out.append("- ")
            if type(item) is dict and item:
                self.mapping(item, indent + 2)
            elif type(item) is list and item:
                self.sequence(item, indent + 2)
            else:
                self.scalar(item, indent + 2, indent + 2)

    def scalar(self, value: Any, column: int, block_indent: int) -> None:
        """A scalar that starts at `column`, then the line's end; a literal block's lines are
        indented by `block_indent`."""
        kind = type(value)
        if kind is str:
            if "\n" in value:
                self.out.append(_literal(value, block_indent))
                return
            text = _one_line(value)
            if " " in text and column + len(text) > _WIDTH:
                raise _NotPlainError  # PyYAML would fold it at a space
        elif kind is bool:
            text = "true" if value else "false"
        elif kind is int:
            text = str(value)
        elif kind is float:
            text = repr(value)
            if "." not in text or "e" in text:  # exponents, inf and nan have YAML spellings of their own
                raise _NotPlainError
        elif value is None:
            text = "null"
        elif (kind is dict or kind is list) and not value:
            self._remember(value)
            text = "{}" if kind is dict else "[]"
        else:
            raise _NotPlainError
        self.out.append(text + "\n")

    def _remember(self, container: dict[str, Any] | list[Any]) -> None:
        if id(container) in self.seen:
            raise _NotPlainError
        self.seen.add(id(container))


def _one_line(text: str) -> str:
    """A one-line string as YAML writes it: bare, or in single quotes when bare it would not be
    read back as this string."""
    if not text:
        return "''"
    if not text.isascii() or not text.isprintable():
        raise _NotPlainError  # PyYAML double-quotes control characters; other text is left to it
    if _bare(text) and _OTHER_TYPE.fullmatch(text) is None:
        return text
    return "'" + text.replace("'", "''") + "'"


def _bare(text: str) -> bool:
    """Whether YAML's block context can hold this printable one-line text bare: no space at either
    end, no document marker or indicator at the start, no `: ` or ` #` inside, no `:` at the end."""
    if text[0] == " " or text[-1] == " " or text.startswith(("---", "...")):
        return False
    first, second = text[0], text[1:2]
    if first in _INDICATORS or (first in "?:-" and second in ("", " ")):
        return False
    return ": " not in text and " #" not in text and not text.endswith(":")


def _literal(text: str, indent: int) -> str:
    """Text of several lines as a `|` block (the style text.py asks for), when YAML allows one
    with no indentation indicator: printable ASCII, not starting with a space or a line break,
    and no space before a line break or at the end; `|-` when it does not end with a line break,
    left to PyYAML when it ends with several."""
    if not text.isascii() or not text.replace("\n", "").isprintable():
        raise _NotPlainError
    if text[0] in " \n" or " \n" in text or text.endswith(" "):
        raise _NotPlainError
    if text.endswith("\n\n"):
        raise _NotPlainError  # `|+`, which PyYAML follows with `...` when it ends the document
    lines = text.split("\n")
    chomping = "" if text.endswith("\n") else "-"
    if not chomping:
        lines.pop()  # the final line break ends the block's last line
    margin = " " * indent
    return f"|{chomping}\n" + "".join(margin + line + "\n" if line else "\n" for line in lines)
