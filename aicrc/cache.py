"""A small on-disk cache for pure, expensive results (parsed files, solved dependency graphs).

Like Python's own `.pyc` files it is keyed by the content it was computed from, so a stale entry
can never be returned; writes are atomic and best-effort (a read-only home just means no cache).
`AICRC_CACHE_DIR` moves it; `AICRC_NO_CACHE=1` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from aicrc.version import __version__


def _root() -> Path | None:
    if os.environ.get("AICRC_NO_CACHE"):
        return None
    configured = os.environ.get("AICRC_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aicrc"


def key(*parts: str | bytes) -> str:
    """A cache key over the compiler version and the given parts."""
    digest = hashlib.sha256(__version__.encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def load(namespace: str, entry: str) -> Any | None:
    root = _root()
    if root is None:
        return None
    try:
        with open(root / namespace / f"{entry}.pickle", "rb") as handle:
            return pickle.load(handle)
    except Exception:
        return None


def store(namespace: str, entry: str, value: Any) -> None:
    root = _root()
    if root is None:
        return
    import tempfile

    try:
        folder = root / namespace
        folder.mkdir(parents=True, exist_ok=True)
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, folder / f"{entry}.pickle")
    except Exception:
        return


def directory(namespace: str) -> Path | None:
    """A folder for caches that other libraries write themselves (Lark's grammar cache)."""
    root = _root()
    if root is None:
        return None
    try:
        (root / namespace).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return root / namespace
