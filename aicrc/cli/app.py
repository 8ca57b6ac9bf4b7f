"""`aicrc`: find the command, parse its arguments, run it, and turn every outcome into an exit code.

Nothing escapes main(): problems in the input are reported as diagnostics (exit 1), a wrong
command line as a usage error (exit 2), and anything unexpected as one line naming the step that
failed (exit 3; AICRC_DEBUG=1 adds the traceback).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from collections.abc import Sequence

from aicrc.cli.criteria import parse_with_criteria
from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.fast import discard_stdout
from aicrc.cli.parsing import CommandParser, UsageError, parse_strictly, reject
from aicrc.version import __version__

# Each command and the module of aicrc.cli that declares and runs it, in the order --help lists
# them. A command line that names one command imports that module alone: importing all of them
# (and declaring their 180 options) took a compile with no cache 10 ms.
COMMANDS = {
    "compile": "compile",
    "explain": "explain",
    "query": "query",
    "stats": "stats",
    "diff": "diff",
    "matrix": "matrix",
    "schema": "schema",
    "fmt": "fmt",
    "check": "check",
    "lsp": "lsp",
    "import": "import_",
    "bundle": "bundle",
    "verify": "verify",
    "keygen": "keygen",
    "pull": "pull",
    "graph": "graph",
    "mirror": "mirror",
    "snapshot": "snapshot",
    "validate": "validate",
    "drift": "drift",
    "serve": "serve",
}

DESCRIPTION = "Compile recipes for GPU-accelerated Kubernetes into version-locked deployment configurations."
EPILOG = exit_codes(
    one="the input has errors (diff: the recipes differ; check: findings; fmt --check: a file would change)",
    two="usage error: the command line is wrong; or the command could not run\n"
    "       (diff: an input has errors; check: a file could not be checked)",
)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments == ["--version"]:  # asked by scripts and editors on every start: skip building the parser
        print(f"aicrc {__version__}")
        return ExitCode.OK
    invocation = _Invocation(arguments)
    try:
        code = invocation.run()
        sys.stdout.flush()  # here, where a closed pipe is still ours to handle, not at interpreter exit
        return code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        discard_stdout()
        return ExitCode.OK  # the reader stopped reading (`| head`): it has what it wanted
    except SystemExit as stop:  # argparse after --help, or a library that exits on its own
        return _exit_status(stop.code)
    except Exception as failure:
        return invocation.internal_error(failure)


class _Invocation:
    """One run of the command line; it knows which step it is in, for the internal-error line."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.command: str | None = None
        self.step = "reading the command line"
        self.output_format = "text"

    def run(self) -> ExitCode:
        try:
            return self._dispatch()
        except UsageError as problem:
            where = f"aicrc {self.command}" if self.command else "aicrc"
            print(f"{where}: error: {problem}\nTry '{where} --help'.", file=sys.stderr)
            return ExitCode.USAGE_ERROR
        except Exception as failure:
            from aicrc import diagnostics as diag  # imported once something failed: --help stays fast

            if not isinstance(failure, diag.AicrcError):
                raise
            from aicrc.cli.output import report_error

            report_error(failure, self.output_format)
            return ExitCode.INPUT_ERROR

    def _dispatch(self) -> ExitCode:
        options, name, rest = _split(self.argv)
        # aicrc's own options (--help) and a command it does not know list every command
        top, commands = _parsers(name if not options and name in COMMANDS else None)
        reject(top, top.parse_known_args(options)[1])  # --help, --version, or a usage error
        if name is None:
            top.print_help()
            return ExitCode.USAGE_ERROR
        if name not in commands:
            close = difflib.get_close_matches(name, commands, n=1)
            raise UsageError(f"unknown command {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        self.command = name
        parser = commands[name]
        if parser.takes_criteria:
            self.step = "loading the library"
            args = parse_with_criteria(parser, rest)
        else:
            args = parse_strictly(parser, rest)
        self.output_format = getattr(args, "format", "text")
        self.step = args.step
        code: ExitCode = args.handler(args)
        return code

    def internal_error(self, failure: Exception) -> ExitCode:
        if os.environ.get("AICRC_DEBUG") == "1":
            import traceback

            traceback.print_exception(failure)
        where = f"aicrc {self.command}" if self.command else "aicrc"
        summary = f"{type(failure).__name__}: {failure}".splitlines()[0]
        print(
            f"{where}: internal error while {self.step}: {summary}; "
            "please report this bug with the command you ran (AICRC_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL_ERROR


def _parsers(only: str | None = None) -> tuple[CommandParser, dict[str, CommandParser]]:
    """aicrc's parser and its commands' parsers: every command's, or the one named `only`."""
    top = CommandParser(prog="aicrc", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"aicrc {__version__}")
    subparsers = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    for name in [only] if only else COMMANDS:
        importlib.import_module(f"aicrc.cli.{COMMANDS[name]}").register(subparsers)
    return top, subparsers.choices


def _split(argv: list[str]) -> tuple[list[str], str | None, list[str]]:
    """aicrc's own options, the command, and the command's arguments. aicrc's options take no
    value, so the first argument that is not an option is the command."""
    for index, argument in enumerate(argv):
        if not argument.startswith("-"):
            return argv[:index], argument, argv[index + 1 :]
    return argv, None, []


def _exit_status(code: object) -> int:
    """What the interpreter would exit with for `SystemExit(code)`."""
    if code is None:
        return ExitCode.OK
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return ExitCode.INPUT_ERROR
