"""Dotted paths typed by users on the command line: `gpu-operator.driver.version`,
`gpu-operator."nvidia.com/gpu"`, `components.gpu-operator.values.driver`."""

from __future__ import annotations

import json
import re
from typing import Any

_SEGMENT = re.compile(r'"(?:[^"\\]|\\.)*"|[^."]+')


def parse_dotted(text: str) -> tuple[str, ...]:
    """Split on dots outside quotes; raises ValueError for an empty or malformed path."""
    segments: list[str] = []
    position = 0
    while True:
        match = _SEGMENT.match(text, position)
        if match is None:
            raise ValueError(f"malformed path `{text}` at character {position + 1}")
        token = match.group()
        segments.append(json.loads(token) if token.startswith('"') else token)
        position = match.end()
        if position == len(text):
            return tuple(segments)
        if text[position] != ".":
            raise ValueError(f"malformed path `{text}` at character {position + 1}")
        position += 1


def select(document: Any, path: tuple[str, ...]) -> Any:
    """Walk a document; in a list, a segment picks the item with that `name`, or that index."""
    node = document
    for depth, segment in enumerate(path):
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list):
            named = [item for item in node if isinstance(item, dict) and item.get("name") == segment]
            if named:
                node = named[0]
            elif segment.isdigit() and int(segment) < len(node):
                node = node[int(segment)]
            else:
                raise LookupError(".".join(path[: depth + 1]), _choices(node))
        else:
            raise LookupError(".".join(path[: depth + 1]), _choices(node))
    return node


def _choices(node: Any) -> list[str]:
    if isinstance(node, dict):
        return sorted(node)
    if isinstance(node, list):
        return [str(item["name"]) for item in node if isinstance(item, dict) and "name" in item]
    return []
