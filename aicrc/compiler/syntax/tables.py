"""The parser's LALR tables, built from the grammar once and then only loaded.

Building Lark's LALR(1) parser from `grammar/aicr.lark` takes about ten times longer than loading
the tables it computes, so the tables are stored and loaded with Lark's own (de)serialisation:
in the wheel (`aicr.tables` beside this module, written by the build hook in `hatch_build.py`),
and in the cache (a source checkout, or an installed wheel whose tables a different Lark wrote).
The tables are data derived from our grammar, not Lark's code; they are marshalled plain data
(dicts, lists, strings, numbers), tagged with the Lark version that wrote them and the sha256 of
the grammar they were built from, and used only when both match.

The build hook loads this file by its path, outside the package: it imports nothing of aicrc.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lark import Lark

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aicr.tables")
OPTIONS: dict[str, Any] = {"parser": "lalr", "lexer": "contextual", "propagate_positions": True, "maybe_placeholders": False}


def build(grammar: str) -> Lark:
    from lark import Lark

    return Lark(grammar, **OPTIONS)


def dump(parser: Lark, grammar: str) -> bytes:
    import lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    data, memo = parser.memo_serialize([TerminalDef, Rule])
    return marshal.dumps({"lark": lark.__version__, "grammar": _digest(grammar), "data": data, "memo": memo})


def load(tables: bytes, grammar: str) -> Lark | None:
    """The parser the tables hold, or None when they are not for this grammar and this Lark."""
    import lark

    try:
        stored = marshal.loads(tables)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(stored, dict) or stored.get("lark") != lark.__version__ or stored.get("grammar") != _digest(grammar):
        return None
    return lark.Lark.load({"data": stored["data"], "memo": stored["memo"]})


def load_shipped(grammar: str) -> Lark | None:
    try:
        with open(SHIPPED, "rb") as handle:
            return load(handle.read(), grammar)
    except FileNotFoundError:  # a source checkout: the tables ship only in the wheel
        return None


def write(grammar_file: str, out: str) -> None:
    """Build the tables of `grammar_file` into `out` (for the wheel's build hook)."""
    with open(grammar_file, encoding="utf-8") as handle:
        grammar = handle.read()
    with open(out, "wb") as handle:
        handle.write(dump(build(grammar), grammar))


def _digest(grammar: str) -> str:
    return hashlib.sha256(grammar.encode("utf-8")).hexdigest()
