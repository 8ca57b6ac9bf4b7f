"""`aicrc bundle`: the files that install a recipe (values, manifests, scripts, READMEs, checksums).

It compiles what `aicrc compile` compiles (a recipe file or name, criteria flags, --criteria,
--overlay, --set), or reads a compiled recipe back with `--compiled FILE`; `aicrc graph` shares
that choice (`add_compiled_option`, `recipe_from_args`).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aicrc.bundle.deployers import NAMES as DEPLOYERS
from aicrc.cli import criteria
from aicrc.cli.exits import ExitCode
from aicrc.cli.parsing import CommandParser, Subparsers, UsageError

if TYPE_CHECKING:
    from aicrc.bundle.recipe import Recipe

DEFAULT_DEPLOYER = "helm"


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "bundle",
        "write a deployment bundle: the files that install a recipe, with a checksum of each",
        handler=run,
        step="bundling",
        inputs="RECIPE",
    )
    add_compiled_option(parser)
    parser.add_argument(
        "-d",
        "--deployer",
        action="append",
        choices=DEPLOYERS,
        help=f"how the bundle installs (repeatable: each in DIR/DEPLOYER/; default {DEFAULT_DEPLOYER})",
    )
    parser.add_argument("-o", "--output", metavar="DIR", help="the folder to write (required; it must be new or empty)")
    parser.add_argument("--force", action="store_true", help="replace DIR even if it is not empty (everything in it)")
    parser.set_defaults(format="text")  # errors are text: there is no --format


def add_compiled_option(parser: CommandParser) -> None:
    parser.add_argument(
        "--compiled", metavar="FILE", help="a compiled recipe (YAML or JSON, as `aicrc compile` writes it) instead of RECIPE"
    )


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    """The compiled recipe the command line names: compiled now, or read from --compiled FILE."""
    from aicrc.bundle.recipe import from_document

    others = {
        "RECIPE": args.inputs,
        "--criteria": args.criteria,
        "criteria flags": args.dimensions,
        "--set": args.set,
        "--overlay": args.overlay,
    }
    if args.compiled is None:
        if not (args.inputs or args.criteria or args.dimensions):
            raise UsageError("expected RECIPE, criteria flags, or --compiled FILE")
        return from_document(criteria.compile_from_args(args).document)
    given = [name for name, value in others.items() if value]
    if given:
        raise UsageError(f"--compiled FILE is compiled already: it takes no {', '.join(given)}")
    from pathlib import Path

    from aicrc.bundle.compiled_file import read_compiled

    return read_compiled(Path(args.compiled))


def run(args: argparse.Namespace) -> ExitCode:
    if not args.output:
        raise UsageError("-o DIR is required: the folder to write the bundle to")
    from aicrc.bundle.build import build_bundle
    from aicrc.bundle.writer import write_bundle

    recipe = recipe_from_args(args)
    deployers = list(dict.fromkeys(args.deployer or [DEFAULT_DEPLOYER]))
    bundle = build_bundle(recipe, deployers)
    write_bundle(bundle, args.output, force=args.force)
    print(f"wrote {args.output}: {len(recipe.components)} components, {len(bundle)} files ({', '.join(deployers)})")
    return ExitCode.OK
