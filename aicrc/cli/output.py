"""Writing results and reporting problems, the same way for every command.

The two writers use `os` alone and import diagnostics only to report a failure: a compile replayed
from the cache writes its files with them, and pathlib, tempfile and shutil would cost it a
third of its time.
"""

from __future__ import annotations

import errno
import os
import sys

from aicrc.cli.recording import wrote  # what a compile writes, its replay writes again

TYPE_CHECKING = False  # typing costs a replayed compile 5 ms to import
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TypeVar

    from aicrc import diagnostics as diag
    from aicrc.api import Compilation

    Made = TypeVar("Made")


def write_output(text: str, output: str | None) -> None:
    """Print, or replace `output` atomically: an error never leaves a half-written file behind."""
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    try:
        fd, temp = _new(os.path.dirname(output) or ".", f".{os.path.basename(output)}.", lambda path: os.open(path, _CREATE, 0o600))
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, output)
        except BaseException:  # not even Ctrl-C leaves the temporary file behind
            os.unlink(temp)
            raise
    except OSError as failure:
        raise _cannot_write(output, failure.strerror) from None
    wrote(output, text)


def write_with_files(text: str, output: str, beside: Mapping[str, str]) -> None:
    """Write `output` and each file of `beside` (POSIX paths relative to the folder of `output`).
    Everything is first written to a temporary folder there and the folders it needs are made,
    then the files are renamed into place, `output` last: an error leaves no file half-written,
    and one before the renames replaces nothing."""
    folder, name = os.path.dirname(output) or ".", os.path.basename(output)
    places = {relative: os.path.join(folder, *relative.split("/")) for relative in beside}
    try:
        _, staging = _new(folder, f".{name}.", lambda path: os.mkdir(path, 0o700))
    except OSError as failure:
        raise _cannot_write(output, failure.strerror) from None
    try:
        staged = {relative: os.path.join(staging, *relative.split("/")) for relative in beside}
        for relative, content in beside.items():
            os.makedirs(os.path.dirname(staged[relative]), exist_ok=True)
            with open(staged[relative], "w", encoding="utf-8") as handle:
                handle.write(content)
        with open(os.path.join(staging, name), "w", encoding="utf-8") as handle:
            handle.write(text)
        for place in [*places.values(), output]:  # what would stop a rename, found before the first
            os.makedirs(os.path.dirname(place) or ".", exist_ok=True)
            if os.path.isdir(place):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), place)
        for relative, place in places.items():
            os.replace(staged[relative], place)
        os.replace(os.path.join(staging, name), output)
    except OSError as failure:
        named = failure.filename and not _inside(os.fsdecode(failure.filename), staging)
        raise _cannot_write(failure.filename if named else output, failure.strerror) from None
    finally:  # not even Ctrl-C leaves the temporary folder behind
        _remove(staging)
    wrote(output, text, beside)


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _new(folder: str, prefix: str, make: Callable[[str], Made]) -> tuple[Made, str]:
    """What `make` makes at a path in `folder` that no one else has taken (it fails with
    FileExistsError on one that is), and that path: as tempfile would make it."""
    while True:
        path = os.path.join(folder, prefix + os.urandom(6).hex())
        try:
            return make(path), path
        except FileExistsError:
            continue


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.abspath(path), os.path.abspath(folder)
    return path == folder or path.startswith(folder + os.sep)


def _remove(staging: str) -> None:
    """The staging folder: only empty folders are left in it once every file was renamed into
    place (removed without importing shutil), anything else after an error."""
    try:
        for folder, _, _ in os.walk(staging, topdown=False):
            os.rmdir(folder)
    except OSError:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)


def _cannot_write(what: object, reason: str | None) -> diag.AicrcError:
    from aicrc import diagnostics as diag

    return diag.error("E0104", f"cannot write {what}: {reason}")


def print_warnings(compilation: Compilation) -> None:
    """Warnings on stderr, rendered like errors (code, place, source line, help)."""
    from aicrc import diagnostics as diag

    warnings = compilation.warnings
    for warning in warnings[: diag.MAX_RENDERED]:
        print(diag.render(warning, compilation.sources, color=stderr_has_color()) + "\n", file=sys.stderr)
    if len(warnings) > diag.MAX_RENDERED:
        print(f"... and {len(warnings) - diag.MAX_RENDERED} more warnings\n", file=sys.stderr)


def report_error(failure: diag.AicrcError, output_format: str) -> None:
    """Errors on stderr, rendered with their source lines; as JSON on stdout with --format json."""
    import json

    if output_format == "json":
        json.dump({"errors": [d.to_dict() for d in failure.diagnostics]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    print(failure.render(color=stderr_has_color()), file=sys.stderr)


def stderr_has_color() -> bool:
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")
