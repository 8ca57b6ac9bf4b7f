"""Options that several commands declare alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aicrc.cli.parsing import CommandParser

if TYPE_CHECKING:
    import argparse

    from aicrc.cluster.kube import Target


def add_overlay_option(parser: CommandParser) -> None:
    parser.add_argument(
        "--overlay", action="append", default=[], metavar="DIR", help="a private overlay folder (repeatable; also AICRC_PATH)"
    )


def add_set_option(parser: CommandParser, help: str = "override one value (repeatable; VALUE is read as YAML)") -> None:
    parser.add_argument("--set", action="append", default=[], metavar="COMPONENT:PATH=VALUE", help=help)


def add_format_option(parser: CommandParser, *choices: str, help: str | None = None) -> None:
    parser.add_argument("--format", choices=choices, default=choices[0], help=help or f"output format (default {choices[0]})")


def add_cluster_options(parser: CommandParser) -> None:
    """Which cluster a command talks to, as kubectl names it. Declared once however many parts of a
    command ask for it (validate's cluster phases, and its --snapshot cm:// as every criteria command's)."""
    if "--kubeconfig" in parser.option_names:
        return
    parser.add_argument("--kubeconfig", metavar="FILE", help="the kubeconfig (default $KUBECONFIG, then ~/.kube/config, then in-cluster)")
    parser.add_argument("--context", metavar="NAME", help="the kubeconfig context (default its current-context)")
    parser.add_argument(
        "--request-timeout", type=float, default=10.0, metavar="SECONDS", help="how long to wait for each API request (default 10)"
    )


def cluster_target(args: argparse.Namespace) -> Target:
    from aicrc.cli.parsing import UsageError
    from aicrc.cluster.kube import Target

    if not args.request_timeout > 0:
        raise UsageError(f"--request-timeout {args.request_timeout:g}: must be more than 0 seconds")
    return Target(kubeconfig=args.kubeconfig, context=args.context, timeout=args.request_timeout)
