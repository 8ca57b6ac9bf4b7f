"""Writing a bundle: every file into a temporary folder beside the target, then one rename.

Nothing is half-written on any error or interruption: the target is either as it was or the
whole bundle. An existing folder with anything in it is refused unless `force`; then it is
swapped with the new one in one step where the OS can (Linux's renameat2 RENAME_EXCHANGE), else
moved aside, replaced, and removed (put back if the replacement fails).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from aicrc import diagnostics as diag
from aicrc.bundle.files import Bundle

FOLDER_MODE = 0o755


def write_bundle(bundle: Bundle, output: str, *, force: bool = False) -> None:
    target = Path(output)
    _check_target(target, output, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    except OSError as failure:
        raise _cannot_write(output, failure) from None
    try:
        _fill(staging, bundle)
        _put_in_place(staging, target)
    except OSError as failure:
        raise _cannot_write(output, failure) from None
    finally:  # not even Ctrl-C leaves the staging folder (or, after a swap, the old bundle) behind
        _remove(staging)


def _check_target(target: Path, output: str, force: bool) -> None:
    if not target.exists() and not target.is_symlink():
        in_the_way = next((parent for parent in target.parents if parent.exists() and not parent.is_dir()), None)
        if in_the_way is not None:
            raise diag.error(
                "E0802",
                f"cannot write the bundle to {output}: {in_the_way} is a file, not a folder",
                help="give -o a folder to create (or an empty one)",
            )
        return
    if not target.is_dir():
        raise diag.error("E0801", f"{output} exists and is not a folder", help="give -o a folder to create (or an empty one)")
    try:
        empty = next(target.iterdir(), None) is None
    except OSError as failure:
        raise _cannot_write(output, failure) from None
    if empty:
        return
    if not force:
        raise diag.error(
            "E0801", f"{output} is not empty", help="choose another folder, or add --force to replace this one (everything in it)"
        )
    here = Path.cwd().resolve()
    if here.is_relative_to(target.resolve()) or Path.home().resolve().is_relative_to(target.resolve()):
        raise diag.error(
            "E0801",
            f"--force would replace {output}, which holds the current folder or your home folder",
            help="write the bundle to a folder of its own",
        )


def _fill(staging: Path, bundle: Bundle) -> None:
    staging.chmod(FOLDER_MODE)  # mkdtemp makes 0700
    made = {staging}
    for relative, file in bundle.items():
        path = staging.joinpath(*relative.split("/"))
        if path.parent not in made:
            path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
            for folder in (path.parent, *path.parent.parents):  # mkdir's mode is cut by the umask
                if folder in made:
                    break
                folder.chmod(FOLDER_MODE)
                made.add(folder)
        _write_file(path, file.content, file.mode)


def _write_file(path: Path, content: bytes, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        os.fchmod(descriptor, mode)  # the bundle's modes, whatever the umask: the same bundle everywhere
        view = memoryview(content)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def _put_in_place(staging: Path, target: Path) -> None:
    """Rename `staging` to `target`. rename(2) replaces an empty folder in one step; a full one is
    swapped, which leaves its old contents in `staging` for the caller to remove."""
    if not target.is_dir() or target.is_symlink() or next(target.iterdir(), None) is None:
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        return
    aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
    try:
        os.rename(target, aside / "previous")
        try:
            os.rename(staging, target)
        except OSError:
            os.rename(aside / "previous", target)
            raise
    finally:
        _remove(aside)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux's renameat2 with RENAME_EXCHANGE); False where the OS,
    the C library or the file system cannot, and the caller falls back to two renames."""
    import ctypes
    import errno

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux, or a C library without it
        return False
    at_cwd, rename_exchange = -100, 2
    result = renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), ctypes.c_uint(rename_exchange))
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # a kernel or file system that cannot swap
        return False
    raise OSError(code, os.strerror(code), str(second))


def _remove(folder: Path) -> None:
    """Remove a staging folder, or an old bundle swapped out; one that resists is left behind
    (the bundle itself is in place, or the error that stopped it is already being reported)."""
    shutil.rmtree(folder, ignore_errors=True)


def _cannot_write(output: str, failure: OSError) -> diag.AicrcError:
    return diag.error(
        "E0802",
        f"cannot write the bundle to {output}: {failure.strerror or failure}",
        help="check that the folder it goes in exists or can be created, and that you may write there",
    )
