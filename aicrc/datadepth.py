"""How deep plain data nests (maps and lists read from JSON or YAML), measured without recursion:
data from outside (a request body, a Helm release) may nest far deeper than Python's stack allows,
and must be refused by its depth before anything recurses over it."""

from __future__ import annotations

from typing import Any


def depth(value: Any) -> int:
    """How many maps and lists nest in `value` (0 for a scalar)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, outside = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, outside + 1)
            stack += [(child, outside + 1) for child in (node.values() if isinstance(node, dict) else node)]
    return deepest
