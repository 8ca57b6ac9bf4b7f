"""The node a snapshot measures: the live machine (its files, and the commands on its PATH), or
a tree of files copied from one (`--root DIR`), where a command's output is the recorded file
`DIR/commands/NAME`. Every way a read can fail becomes a `SkipError` naming the file and why.

Under `--root`, a path that resolves outside DIR (an absolute symlink, `..`) counts as absent: the
tree describes another machine, and this one's files must not leak into its snapshot.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from aicrc.cluster.collectors.skip import SkipError

MAX_FILE_BYTES = 1024 * 1024  # as the reference's file parser: no /proc or /etc file is larger
MAX_OUTPUT_BYTES = 16 * 1024 * 1024  # nvidia-smi -q -x prints about 27 kB per GPU
COMMAND_TIMEOUT_S = 60
COMMANDS = "commands"  # under --root: the recorded outputs of commands


class NodeSource:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._real_root = root.resolve() if root is not None else None

    @property
    def live(self) -> bool:
        return self.root is None

    def shown(self, path: str) -> str:
        """A node path as a message names it: itself, or inside the --root tree."""
        return path if self.root is None else f"{self.root.as_posix().rstrip('/')}{path}"

    def read_text(self, path: str, *, limit: int = MAX_FILE_BYTES) -> str:
        """The UTF-8 text of the node's file at absolute `path` (`/etc/os-release`)."""
        local = self._local(path)
        try:
            with local.open("rb") as handle:
                data = handle.read(limit + 1)
        except FileNotFoundError:
            raise self._skip(path, "no such file") from None
        except OSError as failure:
            raise self._skip(path, failure.strerror or type(failure).__name__) from None
        if len(data) > limit:
            raise self._skip(path, f"larger than {limit // 1024} KiB")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise self._skip(path, "not UTF-8 text") from None

    def files_under(self, path: str) -> Iterator[str]:
        """The regular files under the node's folder `path`, as node paths, sorted; symbolic links
        are not followed (as the reference walks /proc/sys)."""
        top = self._local(path)
        if not top.is_dir():
            raise self._skip(path, "no such folder")
        for folder, folders, files in os.walk(top, onerror=None, followlinks=False):
            folders.sort()
            for name in sorted(files):
                local = Path(folder) / name
                try:
                    if not stat.S_ISREG(local.lstat().st_mode):
                        continue
                except OSError:
                    continue
                yield path.rstrip("/") + "/" + local.relative_to(top).as_posix()

    def run(self, argv: Sequence[str], recorded: str) -> str:
        """The output of a command on the live node, or, under --root, of `commands/RECORDED`."""
        if self.root is not None:
            return self.read_text(f"/{COMMANDS}/{recorded}", limit=MAX_OUTPUT_BYTES)
        program = shutil.which(argv[0])
        if program is None:
            raise SkipError(f"{argv[0]} is not on PATH")
        return _run([program, *argv[1:]], " ".join(argv))

    def _local(self, path: str) -> Path:
        if self.root is None:
            return Path(path)
        local = self.root / path.lstrip("/")
        assert self._real_root is not None
        try:
            inside = local.resolve().is_relative_to(self._real_root)
        except (OSError, RuntimeError):  # a symlink loop
            inside = False
        if not inside:
            raise self._skip(path, "resolves outside --root")
        return local

    def _skip(self, path: str, why: str) -> SkipError:
        return SkipError(f"{self.shown(path)}: {why}")


def _run(argv: list[str], shown: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SkipError(f"{shown} did not finish in {COMMAND_TIMEOUT_S} s") from None
    except OSError as failure:
        raise SkipError(f"{shown} could not start: {failure.strerror}") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        raise SkipError(f"{shown} failed (exit {done.returncode})" + (f": {said[0]}" if said else ""))
    if len(done.stdout) > MAX_OUTPUT_BYTES:
        raise SkipError(f"{shown} printed more than {MAX_OUTPUT_BYTES // (1024 * 1024)} MiB")
    return done.stdout.decode("utf-8", "replace")
