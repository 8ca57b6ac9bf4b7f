"""aicrc: a compiler for recipes that describe GPU-accelerated Kubernetes clusters.

The public API lives in `aicrc.api` and is re-exported here lazily, so `import aicrc` stays cheap
for the command line.
"""

from __future__ import annotations

from aicrc.version import __version__

__all__ = [
    "AicrcError",
    "Compilation",
    "Library",
    "Override",
    "__version__",
    "compile_criteria",
    "compile_file",
    "compile_source",
    "load_library",
    "parse_override",
]


def __getattr__(name: str) -> object:
    if name == "AicrcError":
        from aicrc.diagnostics import AicrcError

        return AicrcError
    if name in __all__:
        from aicrc import api

        return getattr(api, name)
    raise AttributeError(f"module 'aicrc' has no attribute {name!r}")
