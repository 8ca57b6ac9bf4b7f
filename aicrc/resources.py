"""Where the grammar, the standard library and the shipped recipes live.

In a wheel they ship inside the package (`aicrc/grammar`, `aicrc/stdlib`, `aicrc/recipes`); in a
source checkout they are the top-level `grammar/`, `stdlib/` and `recipes/` folders beside the
package.
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


def recipes_dir() -> Path:
    """The recipes users start from, so `aicrc compile blackwell-eks-training` works anywhere."""
    return _locate("recipes")
