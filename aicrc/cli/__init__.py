"""The `aicrc` command line: a thin layer over `aicrc.api`, one module per command.

Each command module has `register(subparsers)`, which declares the command and its options, and
`run(args) -> ExitCode`, which imports what the command needs only when it runs, so that
`aicrc --version` and `--help` stay fast. `app.main` finds the command and turns every outcome
into an exit code (`exits.ExitCode`).

`main` answers two command lines before any of that is imported: `--version`, and a `compile`
whose output the cache holds for inputs that have not changed (`aicrc.cli.fast`), which is then
replayed without loading the library or building the parser. Only a real command line is
replayed (`argv` None: the `aicrc` program, `python -m aicrc`); a caller that passes `argv` (a
test, a program embedding aicrc, perhaps with part of it patched) always runs the compiler.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing takes a warm compile 2 ms to import
if TYPE_CHECKING:
    from collections.abc import Sequence

    from aicrc.cli import fast


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments == ["--version"]:  # asked by scripts and editors on every start: skip building the parser
        from aicrc.version import __version__

        print(f"aicrc {__version__}")
        return 0
    if argv is None and arguments[:1] == ["compile"]:
        return _compile(arguments)
    from aicrc.cli import app

    return app.main(arguments)


def _compile(arguments: list[str]) -> int:
    """`aicrc compile ...`: replayed when the cache holds it for these inputs, else compiled
    (and recorded, when it succeeds)."""
    from aicrc.cli import fast

    entry = fast.request_key(arguments)
    try:
        replay = fast.recorded(entry) if entry is not None else None
        if replay is not None and _write(replay[2]):
            fast.play(replay[0], replay[1])
            return 0
    except KeyboardInterrupt:
        return 130  # ExitCode.INTERRUPTED, as a compile interrupted here would say
    from aicrc.cli import app

    if entry is None:
        return app.main(arguments)
    from aicrc.cli import recording

    return recording.compile_and_record(entry, lambda: app.main(arguments))


def _write(writes: fast.Writes) -> bool:
    """The files the compile wrote, written again by the same writers; False when one cannot be
    written now (the compile then runs, and reports why)."""
    if not writes:
        return True
    from aicrc.cli.output import write_output, write_with_files

    try:
        for output, text, beside in writes:
            if beside is None:
                write_output(text, output)
            else:
                write_with_files(text, output, beside)
    except Exception:  # an AicrcError (E0104) names the cause: the compile reports it
        return False
    return True


__all__ = ["main"]
