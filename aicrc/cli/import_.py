"""`aicrc import`: the reference system's overlays as .aicr files (the module is `import_`
because `import` is a keyword)."""

from __future__ import annotations

import argparse
import sys

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.parsing import Subparsers, add_command


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "import",
        "convert the reference system's overlays (RecipeMetadata YAML) to .aicr files",
        handler=run,
        step="importing",
        details=(
            "\nwith their values files and registry.yaml; then compile each overlay's criteria both ways\n"
            "and report every value that differs"
        ),
        epilog=exit_codes(ok="written (differences are warnings)", one="an input has errors (nothing is written)"),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="overlay files, or the reference's data folder (holding overlays/)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="where to write the .aicr files")
    parser.add_argument("--data", metavar="DIR", help="the folder valuesFile and manifestFiles paths are relative to (found if omitted)")


def run(args: argparse.Namespace) -> ExitCode:
    from aicrc.interop.importer import import_overlays

    outcome = import_overlays(args.paths, args.output, args.data)
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    for difference in outcome.differences:
        print(f"warning: {difference}", file=sys.stderr)
    layers = sum(1 for name in outcome.written if name.startswith("layers/"))
    print(f"wrote {len(outcome.written)} file(s) to {args.output}: {layers} layer(s)")
    if outcome.standalone:
        verdict = "all match" if not outcome.differences else f"{len(outcome.differences)} difference(s), listed above"
        print(f"compiled {outcome.checked} overlay criteria both ways against the reference's merge rules: {verdict}")
        print(f"use it as the whole library: AICRC_STDLIB={args.output} aicrc compile --service ...")
    else:
        print(f"use it as an overlay on the standard library: aicrc compile --overlay {args.output} ...")
    return ExitCode.OK
