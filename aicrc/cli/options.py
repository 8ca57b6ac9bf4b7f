"""Options that several commands declare alike."""

from __future__ import annotations

from aicrc.cli.parsing import CommandParser


def add_overlay_option(parser: CommandParser) -> None:
    parser.add_argument(
        "--overlay", action="append", default=[], metavar="DIR", help="a private overlay folder (repeatable; also AICRC_PATH)"
    )


def add_set_option(parser: CommandParser, help: str = "override one value (repeatable; VALUE is read as YAML)") -> None:
    parser.add_argument("--set", action="append", default=[], metavar="COMPONENT:PATH=VALUE", help=help)


def add_format_option(parser: CommandParser, *choices: str, help: str | None = None) -> None:
    parser.add_argument("--format", choices=choices, default=choices[0], help=help or f"output format (default {choices[0]})")
