"""`aicrc keygen`: a key pair to sign bundles with (`aicrc bundle --sign`) and verify them (`aicrc verify --key`)."""

from __future__ import annotations

import argparse

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.parsing import Subparsers, add_command

# The names, repeated from aicrc.bundle.signing so that --help does not import cryptography.
KEY_TYPES = ("ed25519", "ecdsa")


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "keygen",
        "write a signing key pair: KEYFILE (private, mode 0600) and KEYFILE.pub",
        handler=run,
        step="generating a key",
        epilog=exit_codes(
            ok="both files written",
            one="KEYFILE or KEYFILE.pub exists already, or cannot be written",
        ),
    )
    parser.add_argument("-o", "--output", metavar="KEYFILE", required=True, help="the private key file to write (PEM)")
    parser.add_argument(
        "--type",
        choices=KEY_TYPES,
        default=KEY_TYPES[0],
        help="ed25519 (default: deterministic signatures, so a signed bundle is reproducible) or ecdsa (P-256)",
    )
    parser.set_defaults(format="text")


def run(args: argparse.Namespace) -> ExitCode:
    from pathlib import Path

    from aicrc.bundle.signing import generate, write_key_pair

    signer = generate(args.type)
    public = write_key_pair(signer, Path(args.output))
    print(f"wrote {args.output} (private, {args.type}) and {public} (public); key id {signer.public_key.keyid}")
    return ExitCode.OK
