"""The `aicrc` command line: a thin layer over `aicrc.api`, one module per command.

Each command module has `register(subparsers)`, which declares the command and its options, and
`run(args) -> ExitCode`, which imports what the command needs only when it runs, so that
`aicrc --version` and `--help` stay fast. `app.main` finds the command and turns every outcome
into an exit code (`exits.ExitCode`).
"""

from aicrc.cli.app import main

__all__ = ["main"]
