"""Writing results and reporting problems, the same way for every command."""

from __future__ import annotations

import os
import sys
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
