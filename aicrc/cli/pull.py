"""`aicrc pull oci://...`: restore a bundle that `aicrc bundle -o oci://...` pushed, byte for byte."""

from __future__ import annotations

import argparse

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.parsing import Subparsers, add_command


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "pull",
        "restore a bundle pushed to an OCI registry into a folder",
        handler=run,
        step="pulling",
        epilog=exit_codes(
            ok="the bundle was written to DIR",
            one="the registry cannot be reached or refused, the artifact is not an aicrc bundle, or DIR cannot be written",
            two="usage error, or REFERENCE is not oci://HOST[:PORT]/REPO:TAG",
        ),
    )
    parser.add_argument("reference", metavar="REFERENCE", help="oci://HOST[:PORT]/REPO:TAG")
    parser.add_argument("-o", "--output", metavar="DIR", required=True, help="the folder to write (it must be new or empty)")
    parser.add_argument("--force", action="store_true", help="replace DIR even if it is not empty (everything in it)")
    parser.set_defaults(format="text")


def run(args: argparse.Namespace) -> ExitCode:
    from aicrc import diagnostics as diag
    from aicrc.bundle import oci, tarball
    from aicrc.bundle.writer import write_bundle
    from aicrc.cli.output import report_error

    try:
        reference = oci.parse_reference(args.reference)
    except diag.AicrcError as failure:  # the command line is wrong: exit 2, as for the other flags
        report_error(failure, args.format)
        return ExitCode.USAGE_ERROR
    bundle = tarball.unpack(oci.pull(reference, tarball.MEDIA_TYPE), str(reference))
    write_bundle(bundle, args.output, force=args.force)
    print(f"wrote {args.output}: {len(bundle)} files from {reference}")
    return ExitCode.OK
