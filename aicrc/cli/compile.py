"""`aicrc compile`: a recipe (or criteria) into one resolved, version-locked configuration."""

from __future__ import annotations

import argparse
from pathlib import PurePath

from aicrc.cli import criteria
from aicrc.cli.exits import ExitCode
from aicrc.cli.options import add_format_option
from aicrc.cli.parsing import Subparsers, UsageError


def register(subparsers: Subparsers) -> None:
    parser = criteria.add_criteria_command(
        subparsers,
        "compile",
        "compile a recipe into one resolved, version-locked configuration",
        handler=run,
        step="compiling",
        inputs="FILE",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout (only when the compile succeeds)")
    add_format_option(
        parser,
        "yaml",
        "json",
        "aicr",
        help="output format (default yaml); json also for errors; aicr: the reference system's RecipeResult, "
        "with the recipe's manifests written beside it (needs -o then)",
    )


def run(args: argparse.Namespace) -> ExitCode:
    from aicrc.cli.output import write_output, write_with_files

    compilation = criteria.compile_from_args(args)
    text = compilation.render(args.format)
    if args.format == "aicr":
        from aicrc.compiler.emit.recipe_result import data_files

        beside = data_files(compilation.document)
        if beside:
            _check_room(args.output, beside)
            write_with_files(text, args.output, beside)
            return ExitCode.OK
    write_output(text, args.output)
    return ExitCode.OK


def _check_room(output: str | None, beside: dict[str, str]) -> None:
    """The reference's bundler reads manifests from files, never from the RecipeResult itself, so
    they need a folder: the one `-o` names, where no file written beside may take its name."""
    from aicrc.compiler.emit.recipe_result import MANIFESTS

    if output is None or output == "-":
        count = sum(1 for path in beside if path.startswith(f"{MANIFESTS}/"))
        raise UsageError(
            f"--format aicr: the recipe has {count} manifest{'s' if count != 1 else ''}, which a RecipeResult "
            "names as files beside it; give -o DIR/recipe.yaml (then `aicr bundle --recipe DIR/recipe.yaml --data DIR`)"
        )
    name = PurePath(output).name
    if any(path.split("/")[0] == name for path in beside):
        raise UsageError(f"-o {output}: {name} is written beside the RecipeResult too; name the file recipe.yaml")
