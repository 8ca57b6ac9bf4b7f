"""Where the grammar and the standard library live.

In a wheel they ship inside the package (`aicrc/grammar`, `aicrc/stdlib`); in a source checkout
they are the top-level `grammar/` and `stdlib/` folders beside the package.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def _locate(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"aicrc is installed without its {name}/ folder (looked beside {_PACKAGE})")


def grammar_file() -> Path:
    return _locate("grammar") / "aicr.lark"


def stdlib_dir() -> Path:
    """The standard library; `AICRC_STDLIB=DIR` swaps in another (to test a library change)."""
    override = os.environ.get("AICRC_STDLIB")
    return Path(override) if override else _locate("stdlib")
