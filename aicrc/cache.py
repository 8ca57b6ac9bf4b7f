"""A small on-disk cache for pure, expensive results (parsed files, solved dependency graphs, and
the output of whole compiles: see `aicrc.cli.fast`).

Like Python's own `.pyc` files it is keyed by what a result was computed from: the inputs a caller
names, the compiler version, and a digest of aicrc's own code (every `.py` file of the package and
the grammar), so an edited or upgraded compiler never reads a result an older one wrote.

Entries are pickles (or, for compiled outputs, plain bytes), and unpickling runs code, so the
cache is trusted only as far as nobody else can write to it: its folders are created private
(0700), and a folder that another user owns or that group or others may write is not used at all.
Each entry starts with the sha256 of its name and its content, checked before it is used: one
that does not match (truncated, corrupted, edited, copied from another entry) is a miss. Writes
are atomic and best-effort: a read-only home just means no cache. `AICRC_CACHE_DIR` moves it;
`AICRC_NO_CACHE=1` turns it off; `AICRC_DEBUG=1` prints one line on stderr when a folder is refused.

A warm `aicrc compile` imports this module before anything else of aicrc, so it imports only what
Python has loaded at start-up anyway, plus hashlib: pickle, pathlib and tempfile wait until an
entry is really pickled, a Path is asked for, or something is written.
"""

from __future__ import annotations

import os
import stat
import sys
import time

from aicrc.resources import grammar_path
from aicrc.version import __version__

TYPE_CHECKING = False  # typing takes a warm compile 2 ms to import
if TYPE_CHECKING:
    from collections.abc import Iterable
    from hashlib import _Hash, sha256
    from typing import Any
else:
    try:  # CPython's own sha256: hashlib would load OpenSSL first, 4 ms of a warm compile's 35
        from _sha256 import sha256
    except ImportError:  # Python 3.12 and later name it _sha2; hashlib finds it too
        from hashlib import sha256

_PACKAGE = os.path.dirname(os.path.realpath(__file__))
_DIGEST_BYTES = sha256().digest_size
# A file changed this recently may still change within the clock's resolution without its stamp
# changing: its stamp vouches for nothing yet (git calls such entries "racily clean").
SETTLING_NS = 2_000_000_000
_code_digest: str | None = None


def root() -> str | None:
    """The cache's folder (created or not), or None when caching is off."""
    if os.environ.get("AICRC_NO_CACHE"):
        return None
    configured = os.environ.get("AICRC_CACHE_DIR")
    if configured:
        return os.path.abspath(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.abspath(os.path.join(base, "aicrc"))


def stamp(path: str) -> bytes:
    """What a stat says of a file or folder that any change to it would change: device, inode,
    size, mtime and ctime in nanoseconds (no program sets a ctime: writing, renaming over and
    `touch` all move it). Empty when there is nothing to vouch for: the path is missing, or it
    changed too recently (`SETTLING_NS`)."""
    try:
        status = os.stat(path)
    except OSError:
        return b""
    if max(status.st_mtime_ns, status.st_ctime_ns) > time.time_ns() - SETTLING_NS:
        return b""
    return f"{status.st_dev}:{status.st_ino}:{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}".encode()


def code_files(package: str | os.PathLike[str], grammar: str | os.PathLike[str]) -> list[str]:
    """Every `.py` file under `package` (sorted), then the grammar."""
    top = os.fspath(package)
    files = []
    for folder, subfolders, names in os.walk(top):  # os.walk and open(): pathlib costs twice as much here
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        files += [os.path.join(folder, name) for name in names if name.endswith(".py")]
    return [*sorted(files), os.fspath(grammar)]


def code_digest_of(package: str | os.PathLike[str], grammar: str | os.PathLike[str]) -> str:
    """sha256 over the path (relative to `package`) and the bytes of every file of `code_files`."""
    top = os.fspath(package)
    digest = sha256()
    *modules, grammar_file = code_files(package, grammar)
    for file in modules:
        with open(file, "rb") as handle:
            _update(digest, os.fsencode(file[len(top) :]))
            _update(digest, handle.read())
    with open(grammar_file, "rb") as handle:
        _update(digest, handle.read())
    return digest.hexdigest()


def code_digest() -> str:
    """This installation's code: the content digest of `code_digest_of`, worked out once per
    process. Hashing 700 KB takes a warm compile several ms, so the digest is also kept in the
    cache under the files' stamps, and found there while every file keeps its stamp: an edit
    changes a stamp, so the content is hashed again. (Python itself runs a module's cached
    bytecode while the source keeps its size and its mtime in whole seconds.)"""
    global _code_digest
    if _code_digest is None:
        files = code_files(_PACKAGE, grammar_path())
        stamps = [stamp(file) for file in files]
        parts = [part for file, mark in zip(files, stamps, strict=True) for part in (os.fsencode(file), mark)]
        name = digest_of(parts).hexdigest()
        known = load_bytes("code", name) if all(stamps) else None
        if known is not None:
            _code_digest = known.decode()
        else:
            _code_digest = code_digest_of(_PACKAGE, grammar_path())
            if all(stamps) and [stamp(file) for file in files] == stamps:  # nothing changed while it was hashed
                store_bytes("code", name, _code_digest.encode())
    return _code_digest


def key(*parts: str | bytes) -> str:
    """A cache key over the compiler's version and code and the given parts."""
    digest = sha256(__version__.encode())
    # With the cache off a key only names what this process keeps in memory (the parser's last
    # files), and a running process's code does not change: hashing it would cost 12 ms for nothing.
    if root() is not None:
        _update(digest, code_digest().encode())
    for part in parts:
        # A str with lone surrogates (an editor's buffer) still has a key; it just cannot parse.
        _update(digest, part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part)
    return digest.hexdigest()


def _update(digest: _Hash, data: bytes) -> None:
    # Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
    digest.update(len(data).to_bytes(8, "big"))
    digest.update(data)


def digest_of(parts: Iterable[bytes]) -> _Hash:
    """The sha256 of many parts, each length-prefixed."""
    digest = sha256()
    for part in parts:
        _update(digest, part)
    return digest


# ---- where entries may live --------------------------------------------------------------------


def _private(folder: str) -> bool:
    """A folder nobody but this user can put files in (so no one else can plant an entry)."""
    status = os.stat(folder)
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


_refused: set[str] = set()


def _warn_refused(folder: str) -> None:
    """Once per folder and process, and only when asked for: a refused cache only costs time."""
    if folder not in _refused and os.environ.get("AICRC_DEBUG"):
        print(f"aicrc: cache not used: {folder} is writable by others or not yours (chmod 700 it, or set AICRC_CACHE_DIR)", file=sys.stderr)
    _refused.add(folder)


def _folder(namespace: str, *, create: bool) -> str | None:
    """The namespace's folder when it (and the cache root above it) can be trusted, else None."""
    top = root()
    if top is None:
        return None
    folder = os.path.join(top, namespace)
    try:
        for checked in (top, folder):  # the root first: nothing is created inside one that is refused
            if create:
                os.makedirs(checked, mode=0o700, exist_ok=True)
            if not _private(checked):
                _warn_refused(checked)
                return None
    except OSError:  # missing (nothing cached yet) or unreadable: a miss
        return None
    return folder


# ---- entries: sha256 of name and content, then the content ------------------------------------------


def _seal(namespace: str, entry: str, data: bytes) -> bytes:
    # The digest also covers the entry's name, so a file copied under another key is a miss too.
    return sha256(f"{namespace}/{entry}\0".encode() + data).digest()


def load_bytes(namespace: str, entry: str, suffix: str = ".entry") -> bytes | None:
    """The content stored under `entry`, when it is there and its seal matches."""
    folder = _folder(namespace, create=False)
    if folder is None:
        return None
    try:
        with open(os.path.join(folder, entry + suffix), "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    seal, data = raw[:_DIGEST_BYTES], raw[_DIGEST_BYTES:]
    return data if seal == _seal(namespace, entry, data) else None


def store_bytes(namespace: str, entry: str, data: bytes, suffix: str = ".entry") -> None:
    folder = _folder(namespace, create=True)
    if folder is None:
        return
    import contextlib
    import tempfile  # here, not above: a warm compile never writes, and tempfile takes ms to import

    try:
        fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_seal(namespace, entry, data) + data)
        os.replace(temp, os.path.join(folder, entry + suffix))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def load(namespace: str, entry: str) -> Any | None:
    data = load_bytes(namespace, entry, ".pickle")
    if data is None:
        return None
    import pickle

    try:
        return pickle.loads(data)
    except Exception:  # written by this very code, so only a bug gets here; a miss is still right
        return None


def store(namespace: str, entry: str, value: Any) -> None:
    import pickle

    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a value that cannot be pickled is simply not cached
        return
    store_bytes(namespace, entry, data, ".pickle")
