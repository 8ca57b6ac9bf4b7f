"""Recording a compile for the output cache (`aicrc.cli.fast`): what it read, what it printed and
what it wrote.

What it read is learnt from Python's audit hooks (PEP 578), not from a list kept by hand: every
file the compile opens for reading, by whatever code, is an input; so is every folder it lists
(a library root walked for `.aicr` files, the shipped recipes searched for a name). A lookup that
finds nothing is told explicitly with `depends_on` (a stat raises no audit event): the recipe
FILE that is not here, so that a shipped recipe of that name was compiled. Left out, because they
are code and `aicrc.cache.code_digest` covers them: Python modules (`.py`, `.pyc`, extensions),
package folders and the folders of `sys.path`; and the cache itself. Each input is observed as the
compile opens it, and again at the end: a compile whose inputs changed while it ran is not
recorded. Neither is one that opened a pipe or a device, used the network or started a process,
or wrote a file other than through `aicrc.cli.output` (which tells `wrote`).

What it printed is copied from sys.stdout and sys.stderr while it runs, as text, so a replay
writes the very same characters through the same streams.
"""

from __future__ import annotations

import os
import sys

from aicrc import cache
from aicrc.cli import fast

TYPE_CHECKING = False  # a warm `compile -o` imports this module (through cli.output): no typing
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TextIO

# Events that bring in something no file records: the network, other programs.
_ELSEWHERE = ("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "pty.spawn")
_CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".so", ".pyd")
_WRITING_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def compile_and_record(entry: str, run: Callable[[], int]) -> int:
    """Run the compile; when it succeeds with inputs that held still, store what it did."""
    global _active
    recording = Recording()
    _install_hook()
    out, err = sys.stdout, sys.stderr
    sys.stdout = _Tee(out, recording, recording.stdout)
    sys.stderr = _Tee(err, recording, recording.stderr)
    _active = recording
    try:
        code = run()
    finally:
        _active = None
        sys.stdout, sys.stderr = out, err
    if code == 0:
        recording.store(entry)
    return code


def depends_on(path: str) -> None:
    """The compile's outcome depends on what is at `path` (say, that nothing is there) although it
    never opened it: a stat raises no audit event."""
    if _active is not None:
        _active.note(os.path.abspath(path))


def wrote(output: str, text: str, beside: Mapping[str, str] | None = None) -> None:
    """`aicrc.cli.output` wrote `output` (and the files `beside` it): a replay writes them again."""
    if _active is not None:
        _active.wrote(output, text, beside)


_active: Recording | None = None  # while a compile is recorded
_hooked = False


class Recording:
    """What one compile read, printed and wrote, as it runs."""

    def __init__(self) -> None:
        self.inputs: dict[str, bytes] = {}  # path -> what was observed of it when the compile first used it
        self.cacheable = True
        self.busy = False  # observing an input opens it: that open is not the compile's
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.writes: list[tuple[str, str, dict[str, str] | None]] = []
        self.declared: set[str] = set()  # the files `wrote` was told of
        self.created: set[str] = set()  # files and folders the compile created (opened to write, mkdir)
        self.renamed_to: set[str] = set()
        top = cache.root()
        self.cache_root = os.path.join(top, "") if top else None
        self.code_folders = {os.path.abspath(entry or os.curdir) for entry in sys.path}

    def note(self, path: str) -> None:
        if path in self.inputs or not self.cacheable:
            return
        self.busy = True
        try:
            seen = fast.observe(path)
        finally:
            self.busy = False
        if seen is None:
            self.cacheable = False
        else:
            self.inputs[path] = seen

    def wrote(self, output: str, text: str, beside: Mapping[str, str] | None) -> None:
        self.writes.append((output, text, dict(beside) if beside is not None else None))
        folder = os.path.dirname(os.path.abspath(output))
        self.declared |= {os.path.abspath(output), *(os.path.join(folder, *relative.split("/")) for relative in beside or ())}

    def event(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "open":
            self._opened(args[0], args[1], args[2])
        elif name in ("os.scandir", "os.listdir"):
            self._listed(args[0])
        elif name == "os.rename":
            if isinstance(args[1], str | bytes | os.PathLike):
                self.renamed_to.add(_absolute(args[1]))
        elif name == "os.mkdir":
            if isinstance(args[0], str | bytes | os.PathLike):
                self.created.add(_absolute(args[0]))
        elif name.startswith(_ELSEWHERE):
            self.cacheable = False

    def _opened(self, path: object, mode: object, flags: object) -> None:
        if not isinstance(path, str | bytes | os.PathLike):  # a file descriptor: its open was seen
            return
        where = _absolute(path)
        writing = any(c in mode for c in "wax+") if isinstance(mode, str) else isinstance(flags, int) and bool(flags & _WRITING_FLAGS)
        if writing:
            self.created.add(where)
        elif not (self._code(where) or self._ours(where)):
            self.note(where)

    def _listed(self, path: object) -> None:
        if path is None:
            path = os.curdir
        if not isinstance(path, str | bytes | os.PathLike):  # a descriptor (shutil.rmtree of what it created)
            return
        where = _absolute(path)
        if not (self._code(where) or os.path.isfile(os.path.join(where, "__init__.py")) or self._ours(where)):
            self.note(where)

    def _code(self, where: str) -> bool:
        """Python's: a module, a bytecode file, a folder of sys.path (imports look there)."""
        return where.endswith(_CODE_SUFFIXES) or where in self.code_folders or f"{os.sep}__pycache__" in where

    def _ours(self, where: str) -> bool:
        """In the cache, or made by the compile itself (a temporary file, a staging folder)."""
        return self._in_cache(where) or any(where == made or where.startswith(made + os.sep) for made in self.created)

    def store(self, entry: str) -> None:
        if not self.cacheable or not self._wrote_only_what_it_declared():
            return
        inputs = []
        for path in sorted(self.inputs):
            before = cache.stamp(path)
            if fast.observe(path) != self.inputs[path]:  # changed while compiling
                return
            vouched = before if cache.stamp(path) == before else b""  # the stamp is of what was read
            inputs.append((path, vouched, self.inputs[path]))
        cache.store_bytes(fast.NAMESPACE, entry, fast.encode(inputs, "".join(self.stderr), "".join(self.stdout), tuple(self.writes)))

    def _wrote_only_what_it_declared(self) -> bool:
        """Every file the compile left behind outside the cache is one a replay writes again."""
        left = {path for path in self.created | self.renamed_to if os.path.isfile(path) and not self._in_cache(path)}
        return left <= self.declared

    def _in_cache(self, path: str) -> bool:
        return self.cache_root is not None and (path + os.sep).startswith(self.cache_root)


def _absolute(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    return os.path.abspath(os.fsdecode(path))


def _install_hook() -> None:
    """Once per process (audit hooks cannot be removed); it does nothing between recordings."""
    global _hooked
    if not _hooked:
        sys.addaudithook(_hook)
        _hooked = True


def _hook(name: str, args: tuple[Any, ...]) -> None:
    recording = _active
    if recording is not None and not recording.busy:
        recording.event(name, args)


class _Tee:
    """A text stream that keeps a copy of what is written to it; writing around the copy (to its
    binary buffer) makes the compile one that is not recorded."""

    def __init__(self, stream: TextIO, recording: Recording, copy: list[str]) -> None:
        self._stream = stream
        self._recording = recording
        self._copy = copy

    def write(self, text: str) -> int:
        self._copy.append(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        if name in ("buffer", "writelines"):
            self._recording.cacheable = False
        return getattr(self._stream, name)
