"""`aicrc verify`: check a bundle against its checksums (and, with --key, its signed provenance) and
report the trust level it reaches."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_format_option
from aicrc.cli.parsing import Subparsers, add_command

if TYPE_CHECKING:
    from securesystemslib.signer import Key

    from aicrc.bundle.verify import Report


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "verify",
        "check a bundle against its checksums.txt (and its signed provenance, with --key) and report the trust level it reaches",
        handler=run,
        step="verifying",
        epilog=exit_codes(
            ok="every file matches checksums.txt (with --key: and the signature and provenance verify)",
            one="a file changed, is missing, or is not listed; with --key: the provenance is missing, malformed, "
            "signed by another key, or does not match the bundle (each is named); the key is unusable; "
            "oci://: the registry cannot be reached or refused, or the artifact is not an aicrc bundle",
            two="usage error, or DIR is not a bundle (no folder, or no checksums.txt in it), or not oci://HOST[:PORT]/REPO:TAG",
        ),
    )
    parser.add_argument("directory", metavar="DIR", help="the bundle's folder, or oci://HOST[:PORT]/REPO:TAG to pull and verify")
    parser.add_argument(
        "--key",
        metavar="KEYFILE.pub",
        help="the public key the bundle was signed with (`aicrc keygen`): checks the signature and provenance levels too",
    )
    add_format_option(parser, "text", "json", help="output format (default text); json: the report, problems included")


def run(args: argparse.Namespace) -> ExitCode:
    import json
    from pathlib import Path

    from aicrc import diagnostics as diag
    from aicrc.bundle.oci import is_reference
    from aicrc.bundle.verify import verify
    from aicrc.cli.output import report_error, stderr_has_color, write_output

    key = None
    if args.key is not None:
        from aicrc.bundle.signing import load_public_key

        key = load_public_key(Path(args.key))
    try:
        report = _verify_pushed(args.directory, key) if is_reference(args.directory) else verify(Path(args.directory), key)
    except diag.AicrcError as failure:
        if any(d.code not in ("E0805", "E0854") for d in failure.diagnostics):
            raise
        report_error(failure, args.format)
        return ExitCode.COULD_NOT_RUN
    if args.format == "json":
        write_output(json.dumps(report.to_dict(), indent=2) + "\n", None)
    else:
        if report.problems:
            print(diag.render_all(report.problems, report.sources, color=stderr_has_color()), file=sys.stderr)
        write_output(report.render_text(), None)
    return ExitCode.INPUT_ERROR if report.problems else ExitCode.OK


def _verify_pushed(text: str, key: Key | None) -> Report:
    """Pull the bundle at an oci:// reference into a temporary folder and verify it there; the
    report names the reference, not the folder."""
    import tempfile
    from pathlib import Path

    from aicrc.bundle import oci, tarball
    from aicrc.bundle.verify import verify
    from aicrc.bundle.writer import write_bundle

    reference = oci.parse_reference(text)
    bundle = tarball.unpack(oci.pull(reference, tarball.MEDIA_TYPE), str(reference))
    with tempfile.TemporaryDirectory(prefix="aicrc-verify-") as folder:
        write_bundle(bundle, f"{folder}/bundle", force=True)
        return verify(Path(folder) / "bundle", key, display=str(reference))
