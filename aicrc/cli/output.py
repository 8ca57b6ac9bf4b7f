"""Writing results and reporting problems, the same way for every command."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aicrc import diagnostics as diag
    from aicrc.api import Compilation


def write_output(text: str, output: str | None) -> None:
    """Print, or replace `output` atomically: an error never leaves a half-written file behind."""
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    import tempfile
    from pathlib import Path

    from aicrc import diagnostics as diag

    target = Path(output)
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, target)
        except BaseException:  # not even Ctrl-C leaves the temporary file behind
            os.unlink(temp)
            raise
    except OSError as failure:
        raise diag.error("E0104", f"cannot write {output}: {failure.strerror}") from None


def write_with_files(text: str, output: str, beside: Mapping[str, str]) -> None:
    """Write `output` and each file of `beside` (POSIX paths relative to the folder of `output`).
    Everything is first written to a temporary folder there and the folders it needs are made,
    then the files are renamed into place, `output` last: an error leaves no file half-written,
    and one before the renames replaces nothing."""
    import shutil
    import tempfile
    from pathlib import Path, PurePosixPath

    from aicrc import diagnostics as diag

    target = Path(output)
    folder = target.parent
    places = {relative: folder.joinpath(*PurePosixPath(relative).parts) for relative in beside}
    try:
        staging = Path(tempfile.mkdtemp(dir=folder, prefix=f".{target.name}."))
    except OSError as failure:
        raise diag.error("E0104", f"cannot write {output}: {failure.strerror}") from None
    try:
        staged = {relative: staging.joinpath(*PurePosixPath(relative).parts) for relative in beside}
        for relative, content in beside.items():
            staged[relative].parent.mkdir(parents=True, exist_ok=True)
            staged[relative].write_text(content, encoding="utf-8")
        (staging / target.name).write_text(text, encoding="utf-8")
        for place in [*places.values(), target]:  # what would stop a rename, found before the first
            place.parent.mkdir(parents=True, exist_ok=True)
            if place.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(place))
        for relative, place in places.items():
            os.replace(staged[relative], place)
        os.replace(staging / target.name, target)
    except OSError as failure:
        named = failure.filename and not Path(failure.filename).is_relative_to(staging)
        raise diag.error("E0104", f"cannot write {failure.filename if named else output}: {failure.strerror}") from None
    finally:  # not even Ctrl-C leaves the temporary folder behind
        shutil.rmtree(staging, ignore_errors=True)


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
