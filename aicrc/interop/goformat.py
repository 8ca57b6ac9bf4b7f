"""Values written out the way the reference's Go code writes them, for rendering its manifest
templates: `fmt`'s `%v` (what a template prints, and `toString`) and `gopkg.in/yaml.v3`'s Marshal
(`toYaml`). Values are what a YAML file reads as: None, bool, int, float, str, lists and maps.

Both were checked against Go 1.19 and yaml.v3 v3.0.1 (tests/fixtures/aicr/gotemplate/).
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from typing import Any

MISSING: Any = type("NoValue", (), {"__repr__": lambda self: "<no value>"})()  # a map key that is absent


def go_print(value: Any) -> str:
    """`fmt.Sprint(value)`; an absent map key prints as `<no value>`, as a template prints it."""
    if value is MISSING:
        return "<no value>"
    return _v(value)


def _v(value: Any) -> str:
    if value is None or value is MISSING:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{_v(key)}:{_v(item)}" for key, item in sorted(value.items(), key=lambda kv: str(kv[0]))) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_v(item) for item in value) + "]"
    return str(value)


def go_float(value: float) -> str:
    """`strconv.FormatFloat(value, 'g', -1, 64)`: the shortest digits, with an exponent of at
    least two digits below 1e-4 and from 1e6 up (Python switches at 1e16)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    if text == "0":
        return "-0" if sign else "0"
    assert isinstance(exponent, int)  # finite
    point = len(text) + exponent  # where the decimal point falls in `text`
    minus = "-" if sign else ""
    if point - 1 < -4 or point - 1 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{'-' if point - 1 < 0 else '+'}{abs(point - 1):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    if point >= len(text):
        return minus + text + "0" * (point - len(text))
    return f"{minus}{text[:point]}.{text[point:]}"


# ---- yaml.v3 Marshal ---------------------------------------------------------------------------

_INDENT = 4  # yaml.v3's default
_OLD_BOOLS = {
    *["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF"],
}  # YAML 1.1 booleans, which yaml.v3 quotes so that older readers keep them strings
_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true", "True", "TRUE", "false", "False", "FALSE"}
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9](_?[0-9])*([eE][-+]?[0-9](_?[0-9])*)?")
_SPECIAL_FLOAT = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"}
_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")  # Go's ParseInt, base 0
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_TIMESTAMP = re.compile(  # the forms yaml.v3 reads as a timestamp
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})|[ ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?)?"
)
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def go_yaml(value: Any) -> str:
    """`yaml.Marshal(value)` without its final newline, as the reference's `toYaml` returns it."""
    if isinstance(value, dict) and value:
        return "\n".join(_mapping(value, 0))
    if isinstance(value, list) and value:
        return "\n".join(_sequence(value, 0))
    return _scalar(value, _INDENT)  # a lone literal block is indented as if in flow context


# yaml.v3 indents a collection nested in a sequence item two past the dash, and anything else to
# the next multiple of four past its parent (its emitter's "more regular" indentation)
def _nested(indent: int) -> int:
    return _INDENT * ((indent + _INDENT) // _INDENT)


def _mapping(value: dict[Any, Any], indent: int) -> list[str]:
    lines = []
    pad = " " * indent
    for key in sorted(value, key=_key_order):
        item = value[key]
        text = key if isinstance(key, str) else _v(key)
        if "\n" in text or "\r" in text or len(text) > 128:
            raise ValueError("a map key with a line break or over 128 characters (yaml.v3 writes it as a complex key)")
        head = f"{pad}{_string(text, 0)}:"
        if isinstance(item, dict) and item:
            lines += [head, *_mapping(item, _nested(indent))]
        elif isinstance(item, list) and item:
            lines += [head, *_sequence(item, _nested(indent))]
        else:
            lines.append(f"{head} {_scalar(item, _nested(indent))}")
    return lines


def _sequence(value: list[Any], indent: int) -> list[str]:
    lines = []
    pad = " " * indent
    for item in value:
        # a nested collection starts on the dash's line
        if isinstance(item, dict) and item:
            inner = _mapping(item, indent + 2)
        elif isinstance(item, list) and item:
            inner = _sequence(item, indent + 2)
        else:
            lines.append(f"{pad}- {_scalar(item, indent + 2)}")
            continue
        lines += [f"{pad}- {inner[0][indent + 2 :]}", *inner[1:]]
    return lines


def _key_order(key: Any) -> Any:
    return functools.cmp_to_key(_natural)(key if isinstance(key, str) else _v(key))


def _natural(a: str, b: str) -> int:
    """yaml.v3's order of map keys: letters by code point, runs of digits by their number, and at a
    letter against anything else, the letter first after a digit and last otherwise."""
    after_digit = False
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x == y:
            after_digit = x.isdigit()
            continue
        if x.isalpha() and y.isalpha():
            return -1 if x < y else 1
        if x.isalpha() or y.isalpha():
            first = x.isalpha() if after_digit else y.isalpha()
            return -1 if first else 1
        leading = 1 if (x == "0" or y == "0") and any(ch != "0" for ch in _digits_before(a, i)) else 0
        ra, rb = _digit_run(a, i), _digit_run(b, i)
        na, nb = int(str(leading) + ra) if ra or leading else 0, int(str(leading) + rb) if rb or leading else 0
        if na != nb:
            return -1 if na < nb else 1
        if len(ra) != len(rb):
            return -1 if len(ra) < len(rb) else 1
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))


def _digit_run(text: str, start: int) -> str:
    end = start
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[start:end]


def _digits_before(text: str, index: int) -> str:
    start = index
    while start > 0 and text[start - 1].isdigit():
        start -= 1
    return text[start:index]


def _scalar(value: Any, indent: int) -> str:
    if value is None or value is MISSING:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return {"NaN": ".nan", "+Inf": ".inf", "-Inf": "-.inf"}.get(text := go_float(value), text)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _string(str(value), indent)


def _string(text: str, indent: int) -> str:
    if any(ch in text for ch in "\x85\u2028\u2029\ufeff"):
        raise ValueError("a string with a Unicode line separator or byte order mark (yaml.v3 rewrites them)")
    if "\n" in text:
        return _literal(text, indent)
    if _resolves_to_other_type(text) or text in _OLD_BOOLS or _BASE60.fullmatch(text):
        return _double_quoted(text)
    if _plain_allowed(text):
        return text
    if all(map(_printable, text)):
        return "'" + text.replace("'", "''") + "'"
    return _double_quoted(text)


def _printable(ch: str) -> bool:
    """libyaml's printable characters (astral ones are not: they are written escaped)."""
    code = ord(ch)
    return 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)


def _resolves_to_other_type(text: str) -> bool:
    """Whether yaml.v3 would read the text, written plain, as something other than a string."""
    if text in _NULL or text in _BOOL or text in _SPECIAL_FLOAT or _TIMESTAMP.fullmatch(text):
        return True
    if text[0] == ".":  # read by Go's ParseFloat: underscores only between digits
        return bool(_DOT_FLOAT.fullmatch(text))
    if text[0] not in "+-0123456789":  # yaml.v3 tries numbers only for these first characters
        return False
    digits = text.replace("_", "")  # and reads them with their underscores removed
    return bool(_INT.fullmatch(digits) or _FLOAT.fullmatch(digits))


def _plain_allowed(text: str) -> bool:
    """libyaml's rule for a plain scalar in block context (the emitter yaml.v3 is built on)."""
    if text[0] in " \t" or text[-1] in " \t" or not all(map(_printable, text)):
        return False
    if text.startswith(("---", "...")):
        return False
    first, after = text[0], text[1:2]
    if first in "-?:" and after in ("", " ", "\t"):
        return False
    if first in _INDICATORS - set("-?:"):
        return False
    return ": " not in text and " #" not in text and not text.endswith(":")


_ESCAPES = {
    **{
        chr(code): "\\" + letter
        for code, letter in [(0, "0"), (7, "a"), (8, "b"), (9, "t"), (10, "n"), (11, "v"), (12, "f"), (13, "r"), (27, "e")]
    },
    **{'"': '\\"', "\\": "\\\\"},
}


def _double_quoted(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif _printable(ch):
            out.append(ch)
        else:
            out.append(f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
    return '"' + "".join(out) + '"'


def _literal(text: str, indent: int) -> str:
    if text[0] in "\r\n":
        raise ValueError("a string that starts with a line break (yaml.v3 drops it from a literal block)")
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    hint = str(_INDENT) if body[0] == " " else ""  # an indentation indicator when the text starts with a space
    lines = [(" " * indent + line) if line else "" for line in body.split("\n")]
    lines += [""] * (trailing - 1)
    return f"|{hint}{chomp}\n" + "\n".join(lines)
