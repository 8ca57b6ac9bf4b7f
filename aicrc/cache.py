"""A small on-disk cache for pure, expensive results (parsed files, solved dependency graphs).

Like Python's own `.pyc` files it is keyed by what a result was computed from: the inputs a caller
names, the compiler version, and a digest of aicrc's own code (every `.py` file of the package and
the grammar), so an edited or upgraded compiler never reads a result an older one wrote.

Entries are pickles, and unpickling runs code, so the cache is trusted only as far as nobody else
can write to it: its folders are created private (0700), and a folder that another user owns or
that group or others may write is not used at all. Each entry starts with the sha256 of its name
and its pickle, checked before unpickling: one that does not match (truncated, corrupted, edited,
copied from another entry) is a miss. Writes are atomic and best-effort: a
read-only home just means no cache. `AICRC_CACHE_DIR` moves it; `AICRC_NO_CACHE=1` turns it off;
`AICRC_DEBUG=1` prints one line on stderr when a folder is refused.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aicrc.resources import grammar_file
from aicrc.version import __version__

if TYPE_CHECKING:
    from hashlib import _Hash

_PACKAGE = Path(__file__).resolve().parent
_DIGEST_BYTES = hashlib.sha256().digest_size


def _root() -> Path | None:
    if os.environ.get("AICRC_NO_CACHE"):
        return None
    configured = os.environ.get("AICRC_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aicrc"


def code_digest_of(package: Path, grammar: Path) -> str:
    """sha256 over the relative path and bytes of every `.py` file under `package`, then the
    grammar. Content, not (size, mtime): hashing the ~300 KB package takes about 1.3 ms, and a
    file rewritten with the same size within the clock's resolution would fool a stat."""
    top = str(package)
    files = []
    for folder, subfolders, names in os.walk(top):  # os.walk and open(): pathlib costs twice as much here
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        files += [os.path.join(folder, name) for name in names if name.endswith(".py")]
    digest = hashlib.sha256()
    for file in sorted(files):
        with open(file, "rb") as handle:
            _update(digest, os.fsencode(file[len(top) :]))
            _update(digest, handle.read())
    _update(digest, grammar.read_bytes())
    return digest.hexdigest()


@functools.cache
def code_digest() -> str:
    """This installation's code, hashed once per process."""
    return code_digest_of(_PACKAGE, grammar_file())


def key(*parts: str | bytes) -> str:
    """A cache key over the compiler's version and code and the given parts."""
    digest = hashlib.sha256(__version__.encode())
    _update(digest, code_digest().encode())
    for part in parts:
        # A str with lone surrogates (an editor's buffer) still has a key; it just cannot parse.
        _update(digest, part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part)
    return digest.hexdigest()


def _update(digest: _Hash, data: bytes) -> None:
    # Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
    digest.update(len(data).to_bytes(8, "big"))
    digest.update(data)


# ---- where entries may live --------------------------------------------------------------------


def _private(folder: Path) -> bool:
    """A folder nobody but this user can put files in (so no one else can plant a pickle)."""
    status = folder.stat()
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@functools.cache
def _warn_refused(folder: Path) -> None:
    """Once per folder and process, and only when asked for: a refused cache only costs time."""
    if os.environ.get("AICRC_DEBUG"):
        print(f"aicrc: cache not used: {folder} is writable by others or not yours (chmod 700 it, or set AICRC_CACHE_DIR)", file=sys.stderr)


def _folder(namespace: str, *, create: bool) -> Path | None:
    """The namespace's folder when it (and the cache root above it) can be trusted, else None."""
    root = _root()
    if root is None:
        return None
    folder = root / namespace
    try:
        for checked in (root, folder):  # the root first: nothing is created inside one that is refused
            if create:
                checked.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _private(checked):
                _warn_refused(checked)
                return None
    except OSError:  # missing (nothing cached yet) or unreadable: a miss
        return None
    return folder


# ---- entries: sha256 of the pickle, then the pickle ------------------------------------------------


def _seal(namespace: str, entry: str, data: bytes) -> bytes:
    # The digest also covers the entry's name, so a file copied under another key is a miss too.
    return hashlib.sha256(f"{namespace}/{entry}\0".encode() + data).digest()


def load(namespace: str, entry: str) -> Any | None:
    folder = _folder(namespace, create=False)
    if folder is None:
        return None
    try:
        raw = (folder / f"{entry}.pickle").read_bytes()
    except OSError:
        return None
    seal, data = raw[:_DIGEST_BYTES], raw[_DIGEST_BYTES:]
    if seal != _seal(namespace, entry, data):
        return None
    try:
        return pickle.loads(data)
    except Exception:  # written by this very code, so only a bug gets here; a miss is still right
        return None


def store(namespace: str, entry: str, value: Any) -> None:
    folder = _folder(namespace, create=True)
    if folder is None:
        return
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a value that cannot be pickled is simply not cached
        return
    import tempfile  # here, not above: a warm compile never writes, and tempfile takes ms to import

    try:
        fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_seal(namespace, entry, data) + data)
        os.replace(temp, folder / f"{entry}.pickle")
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def directory(namespace: str) -> Path | None:
    """A folder for caches that other libraries write themselves (Lark's grammar cache), under
    the same rules: private, or not at all."""
    return _folder(namespace, create=True)
