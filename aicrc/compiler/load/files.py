"""Reading source files: the `.aicr` files a command names, and any file as UTF-8 text, with every
way that can fail turned into a located diagnostic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aicrc import diagnostics as diag
from aicrc.compiler.syntax.parser import check_size
from aicrc.source import SourceFile, Span

SUFFIX = ".aicr"


def find_sources(paths: Sequence[str]) -> list[tuple[Path, str]]:
    """The `.aicr` files named on a command line: files as given, folders searched recursively
    (sorted). Each comes with the name to show for it."""
    found: list[tuple[Path, str]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += [(file, file.as_posix()) for file in sorted(path.rglob("*.aicr"))]
        else:
            found.append((path, given))
    return found


def read_source(path: Path, display: str) -> SourceFile:
    """Read a file as UTF-8, turning every way that can fail into a diagnostic."""
    try:
        if path.is_dir():
            raise diag.error("E0104", f"{display} is a directory, not a recipe file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise diag.error("E0104", f"no such file: {display}", help="check the path; recipes end in .aicr") from None
    except OSError as failure:
        raise diag.error("E0104", f"cannot read {display}: {failure.strerror}") from None
    check_size(display, len(data))
    return SourceFile(display, decode_utf8(data, display, help="save the file as UTF-8"), path)


def decode_utf8(data: bytes, display: str, *, help: str) -> str:
    """`data` as UTF-8 text without a byte-order mark; E0103 at the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as failure:
        line = data.count(b"\n", 0, failure.start) + 1
        col = failure.start - (data.rfind(b"\n", 0, failure.start) + 1) + 1
        raise diag.error(
            "E0103",
            f"{display} is not UTF-8 text (byte 0x{data[failure.start]:02x} at offset {failure.start})",
            Span(display, line, col, line, col + 1),
            help=help,
        ) from None
