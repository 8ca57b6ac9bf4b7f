"""`aicrc bundle`: the files that install a recipe (values, manifests, scripts, READMEs, checksums).

It compiles what `aicrc compile` compiles (a recipe file or name, criteria flags, --criteria,
--overlay, --set), or reads a compiled recipe back with `--compiled FILE`; `aicrc graph` shares
that choice (`add_compiled_option`, `recipe_from_args`). `--repo URL` and `--revision` name the Git
repository an argocd or flux bundle is pushed to: a missing or unusable one (E0810, E0811) is a
usage error, exit 2, like every other problem with the command line.
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
    parser.add_argument(
        "--repo", metavar="URL", help="the Git repository the bundle will be pushed to (argocd and flux read the bundle from it)"
    )
    parser.add_argument(
        "--revision",
        metavar="REV",
        help="the branch, tag or commit of --repo to read (default HEAD, its default branch; flux: a branch, refs/tags/TAG or a commit)",
    )
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


# A repository the command line did not give, or gave in a form the deployer cannot use.
REPOSITORY_CODES = frozenset({"E0810", "E0811"})


def run(args: argparse.Namespace) -> ExitCode:
    if not args.output:
        raise UsageError("-o DIR is required: the folder to write the bundle to")
    from aicrc import diagnostics as diag
    from aicrc.bundle.build import build_bundle, uses_repository
    from aicrc.bundle.deployers.base import DEFAULT_REVISION, Repository
    from aicrc.bundle.writer import write_bundle
    from aicrc.cli.output import report_error

    deployers = list(dict.fromkeys(args.deployer or [DEFAULT_DEPLOYER]))
    given = [flag for flag, value in (("--repo", args.repo), ("--revision", args.revision)) if value is not None]
    if given and not uses_repository(deployers):
        raise UsageError(f"{' and '.join(given)}: only the argocd and flux deployers read the bundle from a Git repository")
    revision = DEFAULT_REVISION if args.revision is None else args.revision
    repository = None if args.repo is None else Repository(args.repo, revision)
    recipe = recipe_from_args(args)
    try:
        bundle = build_bundle(recipe, deployers, repository)
    except diag.AicrcError as failure:
        if any(d.code not in REPOSITORY_CODES for d in failure.diagnostics):
            raise
        report_error(failure, args.format)
        return ExitCode.USAGE_ERROR
    write_bundle(bundle, args.output, force=args.force)
    print(f"wrote {args.output}: {len(recipe.components)} components, {len(bundle)} files ({', '.join(deployers)})")
    return ExitCode.OK
