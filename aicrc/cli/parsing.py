"""Argument parsing that never exits the process: main() decides every exit code.

Options may stand anywhere among the arguments (argparse's intermixed parsing), and an unknown
option is a usage error that suggests the closest option the command really has.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeAlias

from aicrc.cli.exits import ExitCode


class UsageError(Exception):
    """The command line is wrong: reported with a pointer to --help, exit 2."""


class CommandParser(argparse.ArgumentParser):
    """A parser whose errors are UsageError (reported by main()), and which remembers its options
    to suggest one for a typo. Its exit() after --help and --version still raises SystemExit, which
    main() turns into its return value."""

    takes_criteria = False  # compile, explain, query and stats: dimension flags come from the library

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.option_names: list[str] = []  # before super().__init__, which adds --help
        super().__init__(*args, **kwargs)

    def add_argument(self, *name_or_flags: str, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*name_or_flags, **kwargs)
        self.option_names += action.option_strings
        return action

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


Handler: TypeAlias = Callable[[argparse.Namespace], ExitCode]
# The object `add_subparsers()` returns; argparse names its class privately.
Subparsers: TypeAlias = "argparse._SubParsersAction[CommandParser]"


def add_command(
    subparsers: Subparsers,
    name: str,
    summary: str,
    *,
    handler: Handler,
    step: str,
    epilog: str,
    details: str = "",
    add_help: bool = True,
) -> CommandParser:
    """Declare a command; `step` names what it does in the one line an internal error prints."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=f"{summary}{details}",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # an unknown option is an error with a suggestion, never a guess
        add_help=add_help,
    )
    parser.set_defaults(handler=handler, step=step)
    return parser


def parse_strictly(parser: CommandParser, argv: Sequence[str]) -> argparse.Namespace:
    args, extras = parser.parse_known_intermixed_args(argv)
    reject(parser, extras)
    return args


def reject(parser: CommandParser, extras: Sequence[str]) -> None:
    """Turn what the parser did not recognise into a usage error that suggests a real option."""
    options = [item.partition("=")[0] for item in extras if item.startswith("-")]
    if options:
        raise UsageError("; ".join(_unknown_option(parser, option) for option in options))
    if extras:
        raise UsageError(f"unexpected argument{'s' if len(extras) > 1 else ''}: {' '.join(extras)}")


def _unknown_option(parser: CommandParser, option: str) -> str:
    # A long option is compared with long ones only, and closely: `--os` is not a typo of `-o`.
    candidates = [name for name in parser.option_names if name.startswith("--") or not option.startswith("--")]
    close = difflib.get_close_matches(option, candidates, n=1, cutoff=0.75)
    return f"unknown option {option}" + (f" (did you mean {close[0]}?)" if close else "")
