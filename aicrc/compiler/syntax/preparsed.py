"""The standard library and the shipped recipes, parsed when the wheel is built, as Python ships
bytecode: Lark's pure-Python parse of the 44 KB library is most of a compile that has no cache.

The build hook (`hatch_build.py`) writes `aicr.asts` beside this module: for every file, its AST
pickled, under the sha256 of its text. A text whose digest is there gets that AST, anything else
is parsed; a source checkout or an editable install has no such file and parses everything. It is
the wheel's own file, written at build time like its `.py` files, and no cache: `AICRC_NO_CACHE`
does not turn it off, and nothing ever writes it at run time.

An AST depends on the file's display name (every span holds it) as well as its text, and the same
file is shown as `recipes/x.aicr` or `/home/me/x.aicr` depending on how it was named: the pickles
hold the name as a placeholder (pickle's persistent ids) that loading replaces with the name of the
file being read. The whole table is used only with the grammar, the Lark release and the aicrc
version it was built with.
"""

from __future__ import annotations

import hashlib
import io
import marshal
import os
import pickle
from collections.abc import Callable

from aicrc.compiler.syntax import ast
from aicrc.resources import grammar_path, package_version, shipped_texts
from aicrc.source import SourceFile
from aicrc.version import __version__

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aicr.asts")
_DISPLAY = "display"  # the persistent id that stands for the file's display name

_table: dict[str, bytes] | None = None


def lookup(source: SourceFile) -> ast.Module | None:
    """The AST shipped for this exact text, shown under this file's name; None when there is none."""
    table = _shipped()
    pickled = table.get(source.sha256) if table else None
    return _Unpickler(pickled, source.display).load() if pickled is not None else None


def write(out: str, parse: Callable[[SourceFile], ast.Module]) -> None:
    """Parse every file of the standard library and the recipes with `parse` (the parser's, which
    imports this module) into the table at `out`, for the wheel's build hook."""
    sources = [SourceFile(display, text) for display, text in shipped_texts(".aicr")]
    modules = {source.sha256: _pickle(parse(source), source.display) for source in sources}
    with open(out, "wb") as handle:
        marshal.dump({"tag": _tag(), "modules": modules}, handle)


def _shipped() -> dict[str, bytes]:
    """The table, read once per process; empty when there is none or it is not for this build."""
    global _table
    if _table is None:
        _table = {}
        try:
            with open(SHIPPED, "rb") as handle:
                stored = marshal.load(handle)
        except (OSError, EOFError, ValueError, TypeError):  # a source checkout has none
            return _table
        if isinstance(stored, dict) and stored.get("tag") == _tag():
            _table = stored["modules"]
    return _table


def _tag() -> tuple[str, str, str]:
    """What shaped the ASTs: aicrc's version, Lark's, and the grammar with the syntax stage's own
    code (an installed copy edited in place must not get ASTs its parser would not build)."""
    digest = hashlib.sha256()
    folder = os.path.dirname(os.path.abspath(__file__))
    for path in [grammar_path(), *sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".py"))]:
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return __version__, package_version("lark"), digest.hexdigest()


def _pickle(module: ast.Module, display: str) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, display).dump(module)
    return buffer.getvalue()


class _Pickler(pickle.Pickler):
    """Writes the display name (that very string, wherever a span holds it) as a placeholder."""

    def __init__(self, file: io.BytesIO, display: str) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.display = display

    def persistent_id(self, obj: object) -> str | None:
        return _DISPLAY if obj is self.display else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, display: str) -> None:
        super().__init__(io.BytesIO(data))
        self.display = display

    def persistent_load(self, pid: object) -> str:
        if pid != _DISPLAY:
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return self.display

    def load(self) -> ast.Module:
        module = super().load()
        if not isinstance(module, ast.Module):
            raise pickle.UnpicklingError("not a module")
        return module
