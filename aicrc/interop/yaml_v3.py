"""YAML read as the reference reads it (gopkg.in/yaml.v3 into Go's `any`), not as PyYAML does.

They part on plain scalars: PyYAML follows YAML 1.1, where `yes`, `on` and `off` are booleans,
`1:20` is the integer 80, `1e3` a string and `2001-12-14` a date; yaml.v3 reads `yes` as a string,
`1e3` as the float 1000, `08` as the float 8 (not octal, so not an integer), and a timestamp as a
time, which the reference writes back as its RFC 3339 text. It also refuses a key given twice in
one mapping, where PyYAML keeps the last. So the reference's files read here with the types the
reference gives them (checked against yaml.v3 v3.0.1 itself: tests/test_import.py).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import yaml

NUMBER_TAG = "tag:aicrc,2025:yaml-v3-plain"  # any plain scalar yaml.v3 might read as a number or time
_SPECIAL_FLOATS = {
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], float("inf")),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], float("-inf")),
    **dict.fromkeys([".nan", ".NaN", ".NAN"], float("nan")),
}
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")  # yaml.v3's, less its `.inf`
_GO_FLOAT = re.compile(r"[-+]?(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][-+]?[0-9](?:_?[0-9])*)?")
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)")
_TIMESTAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{1,2}-[0-9]{1,2})"
    r"(?:(?P<t>[Tt]|[ ])(?P<h>[0-9]{1,2}):(?P<m>[0-9]{1,2}):(?P<s>[0-9]{1,2})(?:\.(?P<f>[0-9]{1,9}))?"
    r"(?P<zone>Z|[-+][0-9]{2}:[0-9]{2})?)?"
)
_INT64 = (-(2**63), 2**63 - 1)


class Loader(yaml.SafeLoader):
    """PyYAML's safe loader with yaml.v3's reading of plain scalars and its duplicate-key check."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping", node.start_mark, f"mapping key {key!r} is given twice", key_node.start_mark
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _plain(loader: Loader, node: yaml.ScalarNode) -> Any:
    return plain_value(str(loader.construct_scalar(node)))


def plain_value(text: str) -> Any:
    """What yaml.v3 makes of a plain scalar that starts like a number (`-+.0-9`)."""
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    if text.startswith("."):  # read by Go's ParseFloat: underscores only between digits
        return float(text.replace("_", "")) if _GO_FLOAT.fullmatch(text) else text
    stamp = _TIMESTAMP.fullmatch(text)
    if stamp is not None and _valid(stamp):
        return _rfc3339(stamp)
    digits = text.replace("_", "")
    number = _go_int(digits)
    if number is not None and (_INT64[0] <= number <= _INT64[1] or (not digits.startswith("-") and number < 2**64)):
        return number
    if _FLOAT.fullmatch(digits):
        return float(digits)
    return text


def _go_int(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 0, ...): a sign, then 0x, 0b, 0o or a leading 0 for octal."""
    match = _GO_INT.fullmatch(text)
    if match is None:
        return None
    sign, body = match.groups()
    if body[:2].lower() in ("0x", "0b", "0o"):
        value = int(body[2:], {"x": 16, "b": 2, "o": 8}[body[1].lower()])
    else:
        value = int(body, 8) if body.startswith("0") else int(body)
    return -value if sign == "-" else value


def _valid(stamp: re.Match[str]) -> bool:
    """yaml.v3's layouts: a date; a `T` time with a zone; a space and a time without one (UTC)."""
    if stamp["h"] is not None and (stamp["t"] == " ") != (stamp["zone"] is None):
        return False
    try:
        datetime.date(*(int(part) for part in stamp["date"].split("-")))
    except ValueError:
        return False
    return stamp["h"] is None or (int(stamp["h"]) < 24 and int(stamp["m"]) < 60 and int(stamp["s"]) < 60)


def _rfc3339(stamp: re.Match[str]) -> str:
    """The reference keeps a timestamp as a time and writes it as Go's RFC 3339 with nanoseconds."""
    year, month, day = (int(part) for part in stamp["date"].split("-"))
    text = f"{year:04d}-{month:02d}-{day:02d}T"
    if stamp["h"] is None:
        return text + "00:00:00Z"
    text += f"{int(stamp['h']):02d}:{int(stamp['m']):02d}:{int(stamp['s']):02d}"
    fraction = (stamp["f"] or "").rstrip("0")
    zone = stamp["zone"] or "Z"
    return text + (f".{fraction}" if fraction else "") + ("Z" if zone in ("Z", "+00:00", "-00:00") else zone)


Loader.yaml_implicit_resolvers = {}  # none of PyYAML's: these
Loader.add_constructor(NUMBER_TAG, _plain)
Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Loader.add_implicit_resolver(NUMBER_TAG, re.compile(r"^[-+.0-9]"), list("-+.0123456789"))
Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])
