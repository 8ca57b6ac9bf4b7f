"""What compile, explain, query and stats share: what to compile (a recipe FILE, or criteria: a
RecipeCriteria file and one `--DIMENSION VALUE` flag per dimension of the library), `--overlay`
and `--set`.

Which dimension flags exist depends on the library, overlays included, so these commands are
parsed twice: a lenient pass learns `--overlay` (and `--help`), the library is loaded, its
dimensions become options, and a strict pass reads the command line with them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aicrc.cli.exits import ExitCode, exit_codes
from aicrc.cli.options import add_cluster_options, add_overlay_option, add_set_option
from aicrc.cli.parsing import CommandParser, Handler, Subparsers, UsageError, add_command, parse_strictly

if TYPE_CHECKING:
    from aicrc.api import Compilation, Library
    from aicrc.cluster.snapshot import Snapshot

EPILOG = """\
criteria: instead of a recipe FILE, name the cluster with one flag per dimension of the library,
  e.g. --service eks --accelerator gb200 --os ubuntu --intent training (--platform follows intent),
  or read a RecipeCriteria YAML file with --criteria FILE. Values are case-insensitive; `any` = unset.
  --snapshot FILE infers the criteria not given from a cluster's snapshot (accelerator, os, service);
  --snapshot cm://NAMESPACE/NAME reads it from a ConfigMap of the cluster (--kubeconfig, --context).
  A FILE that does not exist here names a recipe shipped with aicrc (blackwell-eks-training).
"""


def add_criteria_command(subparsers: Subparsers, name: str, summary: str, *, handler: Handler, step: str, inputs: str) -> CommandParser:
    """A command that compiles one recipe; `inputs` is the usage of its positional arguments
    (FILE, FILE PATH, FILE SELECTOR)."""
    # --help waits for the library (see parse_with_criteria), so that it lists the dimension flags.
    parser = add_command(subparsers, name, summary, handler=handler, step=step, epilog=f"{EPILOG}\n{exit_codes()}", add_help=False)
    parser.takes_criteria = True
    parser.add_argument("-h", "--help", action="store_true", help="show this help message and exit")
    parser.add_argument("inputs", nargs="*", metavar=inputs)
    parser.add_argument("--criteria", metavar="FILE", help="a RecipeCriteria YAML file (the reference system's format)")
    parser.add_argument(
        "--snapshot", metavar="FILE", help="a cluster's Snapshot (a file, or cm://NAMESPACE/NAME): criteria not given are inferred from it"
    )
    add_cluster_options(parser)  # for a --snapshot cm://
    add_overlay_option(parser)
    add_set_option(parser)
    parser.add_argument("--strict", action="store_true", help="treat warnings (W codes) as errors")
    parser.set_defaults(dimensions=[])
    return parser


def parse_with_criteria(parser: CommandParser, argv: Sequence[str]) -> argparse.Namespace:
    from aicrc import diagnostics as diag
    from aicrc.api import load_library
    from aicrc.cli.output import report_error

    first, _ = parser.parse_known_intermixed_args(argv)
    try:
        library = load_library(first.overlay)
    except diag.AicrcError as failure:
        report_error(failure, first.format)
        parser.exit(getattr(first, "input_error", ExitCode.INPUT_ERROR))  # validate: 2, could not check
    _declare_dimension_flags(parser, library)
    if first.help:
        parser.print_help()
        parser.exit()
    args = parse_strictly(parser, argv)
    args.library = library
    return args


def _declare_dimension_flags(parser: CommandParser, library: Library) -> None:
    for name, values in library.dimensions.items():
        flag = f"--{name}"
        if flag in parser.option_names:  # a dimension named like an option (format) is set in FILE or --criteria
            continue
        # dest is the dimension's own name (not argparse's `a_b` for `--a-b`); no default, so a
        # dimension named like another attribute of the parsed arguments cannot shadow it.
        parser.add_argument(
            flag, action=_DimensionFlag, dest=name, default=argparse.SUPPRESS, metavar="VALUE", help=f"{', '.join(values)}, or any (unset)"
        )


class _DimensionFlag(argparse.Action):
    """Collects `(dimension, value)` in command-line order: the compiler checks the values, so its
    errors point at the flag and suggest the closest value."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None
    ) -> None:
        namespace.dimensions = [*namespace.dimensions, (self.dest, values)]


def compile_from_args(args: argparse.Namespace, *, snapshot: Snapshot | None = None) -> Compilation:
    """Compile what the command line names: `[FILE]` and criteria flags. A command that reads
    --snapshot itself (validate) passes it: a recipe FILE may then stand beside it, and criteria are
    inferred from it only without one."""
    return _compile(args, _recipe_file(args, list(args.inputs), "FILE"), snapshot)


def compile_and_select(args: argparse.Namespace, selector: str) -> tuple[Compilation, str]:
    """`[FILE] SELECTOR` and criteria flags: the compilation, and the last argument (PATH, SELECTOR)."""
    shape = f"FILE {selector}"
    if not args.inputs:
        raise UsageError(_expected(shape))
    *given, chosen = args.inputs
    return _compile(args, _recipe_file(args, given, shape)), chosen


def _recipe_file(args: argparse.Namespace, given: list[str], shape: str) -> str | None:
    """The recipe FILE, or None when criteria alone say what to compile."""
    if len(given) > 1 or not (given or args.criteria or args.dimensions or args.snapshot):
        raise UsageError(_expected(shape))
    return given[0] if given else None


def read_snapshot_arg(args: argparse.Namespace) -> Snapshot:
    """The --snapshot: a file, or a ConfigMap (cm://NAMESPACE/NAME) of the cluster the command line
    names. A ConfigMap that cannot be fetched (the cluster unreachable or refusing, no such
    ConfigMap, no snapshot in it) means the command could not run: exit 2; a snapshot with errors
    in it is an input error, as a file's is."""
    from aicrc import diagnostics as diag
    from aicrc.cli.options import cluster_target
    from aicrc.cli.output import report_error
    from aicrc.cluster.storage import FETCH_CODES, read_snapshot_from

    try:
        return read_snapshot_from(args.snapshot, cluster_target(args))
    except diag.AicrcError as failure:
        if not any(diagnostic.code in FETCH_CODES for diagnostic in failure.diagnostics):
            raise
        report_error(failure, getattr(args, "format", "text"))
        raise SystemExit(ExitCode.COULD_NOT_RUN) from None


def _expected(shape: str) -> str:
    return f"expected {shape} (or criteria flags instead of FILE)"


def _compile(args: argparse.Namespace, file: str | None, snapshot: Snapshot | None = None) -> Compilation:
    from pathlib import Path

    from aicrc import diagnostics as diag
    from aicrc.api import RawCriterion, parse_override
    from aicrc.cli.output import print_warnings
    from aicrc.cli.recipe_names import recipe_path

    if file is not None and args.snapshot and snapshot is None:
        raise UsageError("--snapshot infers criteria in place of a recipe FILE: give one or the other")
    overrides = [parse_override(text) for text in args.set]
    criteria = [RawCriterion(name, value, where=f"--{name}") for name, value in args.dimensions]
    extra_sources = {}
    if args.criteria:
        from aicrc.interop.criteria_file import read_criteria_file

        from_file, source = read_criteria_file(Path(args.criteria))
        criteria = from_file + criteria
        extra_sources[source.display] = source
    if args.snapshot and file is None:
        from aicrc.cli.snapshot import criteria_from_snapshot

        snapshot = snapshot or read_snapshot_arg(args)
        criteria = criteria + criteria_from_snapshot(snapshot, args.snapshot, args.library, criteria)
    library: Library = args.library
    try:
        if file is not None:
            compilation = library.compile_file(recipe_path(file), criteria=criteria, overrides=overrides, strict=args.strict)
        else:
            compilation = library.compile(criteria, overrides=overrides, strict=args.strict)
    except diag.AicrcError as failure:
        failure.sources.update(extra_sources)  # errors in --criteria FILE render with its lines
        raise
    print_warnings(compilation)
    return compilation
