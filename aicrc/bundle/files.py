"""The bundle model: every file of a bundle, built in memory before anything is written.

A bundle maps POSIX paths relative to its folder to bytes and a mode, in the order the files were
added. Paths are checked as they are added: deployers build them from checked names, so a bad path
is a bug in aicrc, not in the input.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from aicrc.records import Record

REGULAR = 0o644
EXECUTABLE = 0o755


class BundleFile(Record):
    content: bytes
    mode: int = REGULAR


class Bundle(Mapping[str, BundleFile]):
    def __init__(self) -> None:
        self._files: dict[str, BundleFile] = {}
        self._folders: set[str] = set()

    def add(self, path: str, content: str | bytes, *, executable: bool = False) -> None:
        """Add a file; text is written as UTF-8."""
        _check(path)
        parents = [path.rsplit("/", depth)[0] for depth in range(1, path.count("/") + 1)]
        if path in self._files or path in self._folders or any(parent in self._files for parent in parents):
            raise ValueError(f"bundle path {path!r} is taken (as a file, or as a folder of files)")
        data = content.encode() if isinstance(content, str) else content
        self._files[path] = BundleFile(data, EXECUTABLE if executable else REGULAR)
        self._folders.update(parents)

    def include(self, folder: str, other: Bundle) -> None:
        """Add every file of `other` under `folder`."""
        for path, file in other.items():
            self.add(f"{folder}/{path}", file.content, executable=file.mode == EXECUTABLE)

    def __getitem__(self, path: str) -> BundleFile:
        return self._files[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


def _check(path: str) -> None:
    parts = path.split("/")
    if any(part in ("", ".", "..") or "\\" in part or not part.isprintable() for part in parts):
        raise ValueError(f"not a relative bundle path: {path!r}")
