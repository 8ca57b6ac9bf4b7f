"""A warm `aicrc compile` without the compiler: when nothing it read has changed, what a compile
printed and wrote is replayed from the cache (the `output` namespace of `aicrc.cache`).

The cache entry of a command line is named by the request: the arguments, the working directory,
the environment variables that shape a compile (`AICRC_PATH`, `AICRC_STDLIB`, `NO_COLOR`), whether
stdout and stderr are terminals and how they encode text, the versions of aicrc and Python, and
the stamps of the folders on the import path: installing, upgrading or removing any package (Lark
parses, PyYAML renders) changes its folder, so no compile is replayed across a change of the code
that shaped it.
It holds the digest of aicrc's own code (`aicrc.cache.code_digest`); what the compile read, as
recorded while it ran (`aicrc.cli.recording`): every file it opened (its sha256), every folder it
listed (its sorted names), every path it looked for and did not find; and what the compile did:
its stderr, its stdout and the files it wrote.

A replay checks that each input is as it was: by its stamp (device, inode, size, mtime and ctime,
see `aicrc.cache.stamp`) when the stamp is the one taken as the compile read it, else by its
content, read and hashed again (a file changed less than two seconds before it was recorded is
never vouched for by its stamp: the clock's resolution could hide a second change). Only then are
the files written (with the same atomic writers a compile uses), then stderr and stdout printed,
exactly the characters the compile printed.

Only successful compiles are recorded: errors always run the compiler, and so does `--help`
(argparse fits it to the terminal's width). Anything unexpected on the way (an unreadable entry,
an input that became unreadable, a write that fails) is a miss, and the compile runs as if there
were no cache. `aicrc.cli.main` drives it; this module is what a warm compile imports of aicrc,
and it imports only modules Python loads at start-up and `aicrc.cache`.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys

from aicrc import cache
from aicrc.version import __version__

TYPE_CHECKING = False  # typing itself costs a warm compile 2 ms to import
if TYPE_CHECKING:
    from collections.abc import Sequence

NAMESPACE = "output"
FORMAT = 1  # of the entries: a replay reads only entries of its own format
# What the environment adds to a compile's inputs (the library's folders, colour on stderr).
ENVIRONMENT = ("AICRC_PATH", "AICRC_STDLIB", "NO_COLOR")
HELP = ("-h", "--help")

Writes = tuple[tuple[str, str, dict[str, str] | None], ...]  # (output, text, files beside it)
Input = tuple[str, bytes, bytes]  # (path, its stamp when observed or b"", what was observed)


# ---- the request ------------------------------------------------------------------------------------


def request_key(arguments: Sequence[str]) -> str | None:
    """The name of the entry for this command line here, or None when it is not cached."""
    if cache.root() is None or any(argument in HELP for argument in arguments):
        return None
    environment = [f"{name}={os.environ[name]}" if name in os.environ else f"{name} unset" for name in ENVIRONMENT]
    request = [
        str(FORMAT),
        __version__,
        sys.version,
        *_import_path(),
        os.getcwd(),
        *environment,
        _stream(sys.stdout),
        _stream(sys.stderr),
        *arguments,
    ]
    return cache.digest_of(part.encode("utf-8", "surrogateescape") for part in request).hexdigest()


def _import_path() -> list[str]:
    """Each folder packages are imported from, with its stamp: pip adds and removes entries
    (`lark-1.3.1.dist-info`) there, which changes the folder's mtime. A stat a folder costs
    microseconds, where listing site-packages to read versions would cost half a millisecond. The
    first entry is left out: it is the script's folder, or the working folder for `python -c`,
    where the compile itself may write."""
    stamps: list[str] = []
    for folder in sys.path[1:]:
        try:
            status = os.stat(folder or ".")
        except OSError:  # a folder that is gone
            stamps.append(f"{folder} absent")
            continue
        stamps.append(f"{folder} {status.st_dev}:{status.st_ino}:{status.st_mtime_ns}")
    return stamps


def _stream(stream: object) -> str:
    """What of a stream shapes what is written to it: a terminal gets colour; the encoding."""
    try:
        return f"tty={stream.isatty()} {stream.encoding}/{stream.errors}"  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no stream, or a closed one
        return "none"


# ---- inputs -----------------------------------------------------------------------------------------


def observe(path: str) -> bytes | None:
    """What a compile could have learnt from `path`: a file's sha256, a folder's sorted names, or
    that it is missing. None for anything else (a pipe, a device, an unreadable file): a compile
    that read one is not recorded."""
    try:
        status = os.stat(path)
        if stat.S_ISREG(status.st_mode):
            with open(path, "rb") as handle:
                return b"f" + cache.digest_of([handle.read()]).digest()
        if stat.S_ISDIR(status.st_mode):
            return b"d" + "\0".join(sorted(os.listdir(path))).encode("utf-8", "surrogateescape")
    except (FileNotFoundError, NotADirectoryError):
        return b"-"
    except OSError:
        return None
    return None


def encode(inputs: Sequence[Input], stderr: str, stdout: str, writes: Writes) -> bytes:
    return marshal.dumps((FORMAT, cache.code_digest(), tuple(inputs), stderr, stdout, writes))


# ---- replay -----------------------------------------------------------------------------------------


def recorded(entry: str) -> tuple[str, str, Writes] | None:
    """What the recorded compile printed on stderr and stdout and wrote, if aicrc's code and
    every input are as they were; None when not (or when there is no entry). An input whose stamp
    (`aicrc.cache.stamp`) is the recorded one is as it was; any other is read and hashed again."""
    data = cache.load_bytes(NAMESPACE, entry)
    if data is None:
        return None
    try:  # sealed, so only a bug or an older aicrc's entry can fail here
        form, code, inputs, stderr, stdout, writes = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    if form != FORMAT or code != cache.code_digest():
        return None
    for path, mark, seen in inputs:
        if not (mark and cache.stamp(path) == mark) and observe(path) != seen:
            return None
    return stderr, stdout, writes


def play(stderr: str, stdout: str) -> None:
    """Print what the compile printed, in its order."""
    try:
        sys.stderr.write(stderr)
        sys.stdout.write(stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped reading (`| head`): it has what it wanted
        discard_stdout()


def discard_stdout() -> None:
    """Point stdout at /dev/null, so that flushing what is left at exit does not fail again."""
    import contextlib  # here: a warm compile that prints everything never needs it (3 ms)

    with contextlib.suppress(OSError, ValueError):  # not a real file (a test captures it): nothing will flush it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
