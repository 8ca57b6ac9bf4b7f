"""checksums.txt: the sha256 of every other file of a bundle, one line each, sorted by path, in the
format `sha256sum -c checksums.txt` reads (`HEX  PATH`, text mode).

The reference system writes the same format, but in the order it wrote the files and without its
recipe.yaml; here every file is listed, so an edited recipe.yaml is caught too.
"""

from __future__ import annotations

import hashlib
import re

from aicrc.bundle.files import Bundle

NAME = "checksums.txt"
# One line: 64 hex digits, two spaces (or ` *`, sha256sum's binary mode), the path.
LINE = re.compile(r"(?P<digest>[0-9a-f]{64}) [ *](?P<path>.+)")


def render(bundle: Bundle) -> str:
    # Sorted by the path's bytes, as `LC_ALL=C sort` does, so the file does not depend on the locale.
    paths = sorted((path for path in bundle if path != NAME), key=lambda path: path.encode())
    return "".join(f"{hashlib.sha256(bundle[path].content).hexdigest()}  {path}\n" for path in paths)


def add_checksums(bundle: Bundle) -> None:
    bundle.add(NAME, render(bundle))
