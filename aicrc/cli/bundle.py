"""`aicrc bundle`: the files that install a recipe (values, manifests, scripts, READMEs, checksums).

It compiles what `aicrc compile` compiles (a recipe file or name, criteria flags, --criteria,
--overlay, --set), or reads a compiled recipe back with `--compiled FILE`; `aicrc graph` shares
that choice (`add_compiled_option`, `recipe_from_args`). `--repo URL` and `--revision` name the Git
repository an argocd or flux bundle is pushed to: a missing or unusable one (E0810, E0811) is a
usage error, exit 2, like every other problem with the command line. Node placement
(`--system-node-selector` ... `--nodes`, the reference's flags and formats) is written into the
values at the paths each component declares (bundle/placement.py); `--registry-mirror HOST` points
every image and OCI chart at HOST (bundle/mirror.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aicrc.bundle.deployers import NAMES as DEPLOYERS
from aicrc.cli import criteria
from aicrc.cli.exits import ExitCode
from aicrc.cli.parsing import CommandParser, Subparsers, UsageError

if TYPE_CHECKING:
    from aicrc.bundle.files import Bundle
    from aicrc.bundle.oci import Reference
    from aicrc.bundle.placement import Placement
    from aicrc.bundle.provenance import Input
    from aicrc.bundle.recipe import Recipe

DEFAULT_DEPLOYER = "helm"
T = TypeVar("T")


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
    parser.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="the folder to write (required; it must be new or empty), or oci://HOST[:PORT]/REPO:TAG to push the bundle to",
    )
    parser.add_argument("--force", action="store_true", help="replace DIR even if it is not empty (everything in it)")
    parser.add_argument(
        "--repo", metavar="URL", help="the Git repository the bundle will be pushed to (argocd and flux read the bundle from it)"
    )
    parser.add_argument(
        "--revision",
        metavar="REV",
        help="the branch, tag or commit of --repo to read (default HEAD, its default branch; flux: a branch, refs/tags/TAG or a commit)",
    )
    parser.add_argument(
        "--sign",
        metavar="KEYFILE",
        help="sign the bundle with this private key (`aicrc keygen`): writes provenance.intoto.jsonl, checked by `aicrc verify --key`",
    )
    add_placement_options(parser)
    parser.add_argument(
        "--registry-mirror",
        metavar="HOST",
        help="pull every image the recipe pins, and every OCI chart, from HOST[:PORT][/PATH], at HOST/REGISTRY/PATH "
        "(where `skopeo sync --scoped` copies them; see `aicrc mirror`)",
    )
    parser.set_defaults(format="text")  # errors are text: there is no --format


def add_placement_options(parser: CommandParser) -> None:
    for role, what in (("system", "system components (operators, controllers)"), ("accelerated", "GPU workloads (daemonsets, plugins)")):
        parser.add_argument(
            f"--{role}-node-selector",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=f"a node label for {what} (repeatable)",
        )
        parser.add_argument(
            f"--{role}-node-toleration",
            action="append",
            default=[],
            metavar="KEY[=VALUE]:EFFECT",
            help=f"a taint {what} tolerate (repeatable; EFFECT NoSchedule, PreferNoSchedule or NoExecute)",
        )
    parser.add_argument(
        "--nodes", type=int, default=0, metavar="N", help="the number of GPU nodes, for components that size by it (0: unset)"
    )


def add_compiled_option(parser: CommandParser) -> None:
    parser.add_argument(
        "--compiled", metavar="FILE", help="a compiled recipe (YAML or JSON, as `aicrc compile` writes it) instead of RECIPE"
    )


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    """The compiled recipe the command line names: compiled now, or read from --compiled FILE."""
    return recipe_and_inputs_from_args(args)[0]


def recipe_and_inputs_from_args(args: argparse.Namespace) -> tuple[Recipe, tuple[Input, ...]]:
    """The compiled recipe, and the files it came from with their sha256 (for the provenance): every
    source file of the compilation, or the --compiled FILE itself."""
    import hashlib

    from aicrc.bundle.provenance import Input, inputs_from_sources
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
        compilation = criteria.compile_from_args(args)
        sources = {name: source.text for name, source in compilation.sources.items()}
        return from_document(compilation.document), inputs_from_sources(sources)
    given = [name for name, value in others.items() if value]
    if given:
        raise UsageError(f"--compiled FILE is compiled already: it takes no {', '.join(given)}")
    from pathlib import Path

    from aicrc.bundle.compiled_file import read_compiled

    recipe = read_compiled(Path(args.compiled))  # a file it cannot read is an error here, before the digest
    return recipe, (Input(args.compiled, hashlib.sha256(Path(args.compiled).read_bytes()).hexdigest()),)


# A repository the command line did not give, or gave in a form the deployer cannot use.
REPOSITORY_CODES = frozenset({"E0810", "E0811"})


def run(args: argparse.Namespace) -> ExitCode:
    if not args.output:
        raise UsageError("-o DIR is required: the folder to write the bundle to")
    from aicrc import diagnostics as diag
    from aicrc.bundle.build import build_bundle, uses_repository
    from aicrc.bundle.deployers.base import DEFAULT_REVISION, Repository
    from aicrc.bundle.mirror import check_mirror
    from aicrc.bundle.writer import write_bundle
    from aicrc.cli.output import report_error

    deployers = list(dict.fromkeys(args.deployer or [DEFAULT_DEPLOYER]))
    given = [flag for flag, value in (("--repo", args.repo), ("--revision", args.revision)) if value is not None]
    if given and not uses_repository(deployers):
        raise UsageError(f"{' and '.join(given)}: only the argocd and flux deployers read the bundle from a Git repository")
    revision = DEFAULT_REVISION if args.revision is None else args.revision
    repository = None if args.repo is None else Repository(args.repo, revision)
    from aicrc.bundle import oci

    target = None
    if oci.is_reference(args.output):
        if args.force:
            raise UsageError("--force replaces a folder: a push to oci:// replaces the tag as it is")
        try:
            target = oci.parse_reference(args.output)
        except diag.AicrcError as failure:
            report_error(failure, args.format)
            return ExitCode.USAGE_ERROR
    signer = None
    if args.sign is not None:  # read first: a key that is unusable fails before any work
        from pathlib import Path

        from aicrc.bundle.signing import load_signer

        signer = load_signer(Path(args.sign))
    place = placement_from_args(args)
    registry_mirror = None if args.registry_mirror is None else _checked(check_mirror, args.registry_mirror)
    recipe, inputs = recipe_and_inputs_from_args(args)
    try:
        bundle = build_bundle(recipe, deployers, repository, place=place, registry_mirror=registry_mirror)
    except diag.AicrcError as failure:
        if any(d.code not in REPOSITORY_CODES for d in failure.diagnostics):
            raise
        report_error(failure, args.format)
        return ExitCode.USAGE_ERROR
    if signer is not None:
        from aicrc.bundle.provenance import add_provenance

        add_provenance(bundle, recipe, deployers, inputs, signer)
    if target is not None:
        return _push(bundle, recipe, deployers, target)
    write_bundle(bundle, args.output, force=args.force)
    print(f"wrote {args.output}: {len(recipe.components)} components, {len(bundle)} files ({', '.join(deployers)})")
    return ExitCode.OK


# The files of a bundle also pushed as referrers of it, with their media types.
ATTACHED = {"sbom.cdx.json": "application/vnd.cyclonedx+json", "provenance.intoto.jsonl": "application/vnd.dsse.envelope.v1+json"}


def _push(bundle: Bundle, recipe: Recipe, deployers: list[str], target: Reference) -> ExitCode:
    from aicrc.bundle import oci, tarball

    notes = oci.bundle_annotations(recipe.name, recipe.digest, deployers, target.tag)
    attachments = [
        oci.Attachment(title=name, media_type=kind, content=bundle[name].content) for name, kind in ATTACHED.items() if name in bundle
    ]
    digest = oci.push(target, tarball.pack(bundle), tarball.MEDIA_TYPE, notes, attachments)
    print(f"pushed {target}@{digest}: {len(recipe.components)} components, {len(bundle)} files ({', '.join(deployers)})")
    return ExitCode.OK


def placement_from_args(args: argparse.Namespace) -> Placement:
    from aicrc.bundle.placement import Placement, parse_selectors, parse_tolerations

    if args.nodes < 0:
        raise UsageError(f"--nodes {args.nodes}: a number of nodes is 0 (unset) or more")
    return Placement(
        system_selector=_checked(parse_selectors, "--system-node-selector", args.system_node_selector),
        system_tolerations=_checked(parse_tolerations, "--system-node-toleration", args.system_node_toleration),
        accelerated_selector=_checked(parse_selectors, "--accelerated-node-selector", args.accelerated_node_selector),
        accelerated_tolerations=_checked(parse_tolerations, "--accelerated-node-toleration", args.accelerated_node_toleration),
        nodes=args.nodes,
    )


def _checked(parse: Callable[..., T], *arguments: Any) -> T:
    """What `parse` makes of a flag; its ValueError is a usage error, worded for the flag."""
    try:
        return parse(*arguments)
    except ValueError as problem:
        raise UsageError(str(problem)) from None
