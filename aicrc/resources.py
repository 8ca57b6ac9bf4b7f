"""Where the grammar, the standard library and the shipped recipes live.

In a wheel they ship inside the package (`aicrc/grammar`, `aicrc/stdlib`, `aicrc/recipes`); in a
source checkout they are the top-level `grammar/`, `stdlib/` and `recipes/` folders beside the
package. `aicrc.cache` hashes the grammar on a warm compile's path, so this module imports no
more than `os` until a Path is asked for (pathlib costs such a compile 5 ms).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_PACKAGE = os.path.dirname(os.path.realpath(__file__))
_located: dict[str, str] = {}


def locate(name: str) -> str:
    """The folder `name` (grammar, stdlib, recipes) as a string path."""
    if name not in _located:
        for candidate in (os.path.join(_PACKAGE, name), os.path.join(os.path.dirname(_PACKAGE), name)):
            if os.path.isdir(candidate):
                _located[name] = candidate
                break
        else:
            raise FileNotFoundError(f"aicrc is installed without its {name}/ folder (looked beside {_PACKAGE})")
    return _located[name]


def shipped_texts(suffix: str | tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """Each file of the standard library and the recipes whose name ends with `suffix`, in a fixed
    order: its name as a library shows it (`stdlib/layers/eks.aicr`) and its text, read as bytes and
    decoded as the loader reads files (no newline translation). For the wheel's build hook."""
    for folder in ("stdlib", "recipes"):
        top = locate(folder)
        for directory, _subfolders, names in sorted(os.walk(top)):
            for name in sorted(names):
                if name.endswith(suffix):
                    path = os.path.join(directory, name)
                    with open(path, "rb") as handle:
                        yield os.path.relpath(path, os.path.dirname(top)), handle.read().decode("utf-8")


def grammar_path() -> str:
    return os.path.join(locate("grammar"), "aicr.lark")


def grammar_file() -> Path:
    from pathlib import Path

    return Path(grammar_path())


def stdlib_dir() -> Path:
    """The standard library; `AICRC_STDLIB=DIR` swaps in another (to test a library change)."""
    from pathlib import Path

    override = os.environ.get("AICRC_STDLIB")
    return Path(override) if override else Path(locate("stdlib"))


def recipes_dir() -> Path:
    """The recipes users start from, so `aicrc compile blackwell-eks-training` works anywhere."""
    from pathlib import Path

    return Path(locate("recipes"))


def package_version(name: str) -> str:
    """An installed package's `__version__`, read from its source without importing it; "" when
    it is not installed. The tables the wheel ships (parsed files, checked manifests) name the Lark
    and PyYAML they were made with, and importing those is what the tables save."""
    import re
    from importlib.util import find_spec

    try:
        spec = find_spec(name)
        if spec is None or spec.origin is None:
            return ""
        with open(spec.origin, encoding="utf-8") as handle:
            found = re.search(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", handle.read(), re.MULTILINE)
    except (ImportError, ValueError, OSError, UnicodeDecodeError):  # installed oddly: compiled only, or not as source
        return ""
    return found.group(1) if found else ""
