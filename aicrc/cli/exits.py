"""Exit codes: one set for every command, and the lines of --help that document them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INPUT_ERROR = 1  # the input has errors
    USAGE_ERROR = 2  # the command line is wrong, or the command could not run
    INTERNAL_ERROR = 3  # a bug in aicrc: an exception nobody expected
    INTERRUPTED = 130  # Ctrl-C: what shells report for SIGINT

    # The same codes, named for the commands whose answer is itself yes or no.
    DIFFERENT = 1  # diff: the recipes differ
    FINDINGS = 1  # check: the linter found something
    WOULD_CHANGE = 1  # fmt --check: a file is not formatted
    COULD_NOT_RUN = 2  # diff: an input has errors; check: a file could not be checked


def exit_codes(
    ok: str = "success",
    one: str = "the input has errors",
    two: str = "usage error: the command line is wrong",
) -> str:
    """The `exit codes:` block of an epilog; each command says what 0, 1 and 2 mean for it."""
    return (
        "exit codes:\n"
        f"  0    {ok}\n"
        f"  1    {one}\n"
        f"  2    {two}\n"
        "  3    internal error: a bug in aicrc (AICRC_DEBUG=1 shows the traceback; please report it)\n"
        "  130  interrupted\n"
    )
