"""The manifests of the standard library and the shipped recipes that the wheel's build found to
be YAML, by the sha256 of their text.

Every manifest is checked to be YAML when a library loads, and PyYAML's import alone costs a
compile with no cache 16 ms. A manifest whose exact text the build already checked is not checked
again. Like `aicr.asts` (see `aicrc.compiler.syntax.preparsed`), `manifests.valid` is the wheel's
own file, written by its build hook and never at run time, so `AICRC_NO_CACHE` does not turn it
off; a source checkout or an editable install has none and checks every manifest. It is used only
with the aicrc and PyYAML versions and the checking code it was written with.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

from aicrc.resources import package_version, shipped_texts
from aicrc.source import text_sha256
from aicrc.version import __version__

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "manifests.valid")

_known: frozenset[str] | None = None


def known_valid(text: str) -> bool:
    """Whether the build checked this exact text and found it to be YAML."""
    known = _shipped()
    return bool(known) and text_sha256(text) in known


def write(out: str, problem: Callable[[str], object]) -> None:
    """List every YAML file under the standard library and the recipes in which `problem` (the
    loader's check, which imports this module) finds none, for the wheel's build hook."""
    valid = sorted(text_sha256(text) for _, text in shipped_texts((".yaml", ".yml")) if problem(text) is None)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write("\n".join([_tag(), *valid]) + "\n")


def _shipped() -> frozenset[str]:
    """The digests, read once per process; empty when there is no list or it is not for this build."""
    global _known
    if _known is None:
        _known = frozenset()
        try:
            with open(SHIPPED, encoding="utf-8") as handle:
                tag, *digests = handle.read().splitlines()
            current = _tag()
        except (OSError, UnicodeDecodeError, ValueError):  # a source checkout has none; a copy without its .py files can't tell
            return _known
        if tag == current:
            _known = frozenset(digests)
    return _known


def _tag() -> str:
    """What the verdicts depend on: aicrc's version, PyYAML's, and the code that checks (the
    loader's resolve stage and this module: an installed copy edited in place must check again)."""
    digest = hashlib.sha256()
    folder = os.path.dirname(os.path.abspath(__file__))
    for name in ("resolve.py", "known_manifests.py"):
        with open(os.path.join(folder, name), "rb") as handle:
            digest.update(handle.read())
    return f"aicrc {__version__} pyyaml {package_version('yaml')} code {digest.hexdigest()}"
