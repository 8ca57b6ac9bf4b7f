"""The `aicrc` command line: a thin layer over `aicrc.api`.

Exit codes: 0 success, 1 the input has errors, 2 the command line itself is wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aicrc.version import __version__

# Everything else is imported where it is used: `aicrc --version` and `--help` stay fast.
if TYPE_CHECKING:
    from aicrc import diagnostics as diag
    from aicrc.api import Compilation

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # asked by scripts and editors on every start: skip building the parser
        print(f"aicrc {__version__}")
        return EXIT_OK
    parser, commands = _parser()
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        dimensions: list[tuple[str, str]] = []
        if command in commands:
            argv, dimensions = _take_dimension_flags(argv, commands[command])
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        args.dimensions = dimensions
        return _run(args)
    except UsageError as problem:
        print(f"aicrc {command}: error: {problem}\nTry 'aicrc {command} --help'.", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    from aicrc import diagnostics as diag

    try:
        return int(args.handler(args))
    except diag.AicrcError as failure:
        _report(failure, getattr(args, "format", "text"))
        return EXIT_INPUT


# ---- commands ------------------------------------------------------------------------------------


def _compile(args: argparse.Namespace) -> int:
    compilation = _compilation(args)
    _write(compilation.render(args.format), args.output)
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    import json

    from aicrc.tools.explain import render_text, to_data

    compilation = _compilation(args)
    stories = compilation.explain(args.path)
    _write(json.dumps(to_data(stories), indent=2) + "\n" if args.format == "json" else render_text(stories), None)
    return EXIT_OK


def _query(args: argparse.Namespace) -> int:
    import json

    compilation = _compilation(args)
    value = compilation.query(args.path)
    if args.format == "json":
        text = json.dumps(value, indent=2) + "\n"
    elif isinstance(value, (dict, list)):
        from aicrc.compiler.emit.text import to_yaml

        text = to_yaml(value)
    else:
        text = _scalar(value) + "\n"
    _write(text, None)
    return EXIT_OK


def _stats(args: argparse.Namespace) -> int:
    import json

    from aicrc.tools.stats import render_text, stats

    compilation = _compilation(args)
    summary = stats(compilation.document)
    _write(json.dumps(summary, indent=2) + "\n" if args.format == "json" else render_text(summary), None)
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    """Like diff(1): 0 when equal, 1 when different, 2 when an input has errors."""
    import json

    from aicrc import diagnostics as diag
    from aicrc.api import load_library, parse_override
    from aicrc.tools.diff import diff, render_text, to_data

    try:
        library = load_library(args.overlay)
        overrides = [parse_override(text) for text in args.set]
        a, b = (library.compile_file(path, overrides=overrides) for path in (args.a, args.b))
    except diag.AicrcError as failure:
        _report(failure, args.format)
        return EXIT_USAGE
    _warn(a)
    _warn(b)
    difference = diff(a, b)
    _write(json.dumps(to_data(difference), indent=2) + "\n" if args.format == "json" else render_text(difference), None)
    return EXIT_OK if difference.equal else 1


def _matrix(args: argparse.Namespace) -> int:
    import json

    from aicrc.api import load_library
    from aicrc.tools.matrix import matrix, render_text, to_data

    dimensions, combinations, files = matrix(load_library(args.overlay), args.recipes)
    text = (
        json.dumps(to_data(dimensions, combinations, files), indent=2) + "\n"
        if args.format == "json"
        else render_text(dimensions, combinations, files)
    )
    _write(text, None)
    return EXIT_INPUT if any(not row.ok for row in files) else EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    import json

    from aicrc.compiler.emit.model import json_schema

    _write(json.dumps(json_schema(), indent=2) + "\n", args.output)
    return EXIT_OK


def _fmt(args: argparse.Namespace) -> int:
    """Rewrite files in place (or only report, with --check / --diff). A file that does not parse
    is reported and left alone; the others are still formatted."""
    import difflib

    from aicrc import diagnostics as diag
    from aicrc.compiler.load.loader import find_sources, read_source
    from aicrc.tools.fmt import format_source

    failed, changed = [], []
    for path, display in find_sources(args.paths):
        try:
            source = read_source(path, display)
            formatted = format_source(source)
        except diag.AicrcError as failure:
            failed.append(failure)
            continue
        if formatted == source.text:
            continue
        changed.append(display)
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(source.text.splitlines(True), formatted.splitlines(True), display, display))
        elif not args.check:
            _write(formatted, str(path))
    for failure in failed:
        _report(failure, "text")
    if args.check:
        for display in changed:
            print(f"would reformat {display}")
    elif not args.diff and changed:
        print(f"reformatted {len(changed)} file(s)", file=sys.stderr)
    if failed:
        return EXIT_INPUT
    return EXIT_INPUT if args.check and changed else EXIT_OK


def _check(args: argparse.Namespace) -> int:
    """Exit 0 clean, 1 findings, 2 when something could not be checked (it does not parse,
    compile or read)."""
    from aicrc.tools.lint import output
    from aicrc.tools.lint.run import check_paths

    report = check_paths(args.paths, args.overlay)
    if args.format == "json":
        sys.stdout.write(output.render_json(report))
    elif args.format == "sarif":
        sys.stdout.write(output.render_sarif(report))
    else:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.stdout.write(output.render_text(report, color=color))
    if report.failures or any(d.severity == "error" for d in report.findings):
        return EXIT_USAGE
    return EXIT_INPUT if report.findings else EXIT_OK


def _lsp(args: argparse.Namespace) -> int:
    from aicrc.lsp.server import main as serve

    serve()
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from aicrc.interop.importer import import_overlays

    outcome = import_overlays(args.paths, args.output, args.data)
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
    return EXIT_OK


def _scalar(value: Any) -> str:
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value)


# ---- shared plumbing -----------------------------------------------------------------------------


def _compilation(args: argparse.Namespace) -> Compilation:
    from aicrc import diagnostics as diag
    from aicrc.api import load_library, parse_override
    from aicrc.compiler.evaluate.criteria import RawCriterion

    file, path = _positionals(args)
    if path is not None:
        args.path = path
    overrides = [parse_override(text) for text in args.set]
    criteria = [RawCriterion(name, value, where=f"--{name}") for name, value in args.dimensions]
    extra_sources = {}
    if args.criteria:
        from pathlib import Path

        from aicrc.interop.criteria_file import read_criteria_file

        from_file, source = read_criteria_file(Path(args.criteria))
        criteria = from_file + criteria
        extra_sources[source.display] = source
    try:
        library = load_library(args.overlay)
        if file is not None:
            compilation = library.compile_file(file, criteria=criteria, overrides=overrides)
        elif criteria:
            compilation = library.compile(criteria, overrides=overrides)
        else:
            raise UsageError("give a recipe FILE, --criteria FILE, or dimension flags such as --service eks")
    except diag.AicrcError as failure:
        failure.sources.update(extra_sources)
        raise
    _warn(compilation)
    return compilation


def _positionals(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """`compile [FILE]`, `explain FILE PATH` / `explain PATH` with criteria flags."""
    given = list(args.inputs)
    by_criteria = bool(args.criteria or args.dimensions)
    wanted_path = args.command in ("explain", "query")  # compile and stats take FILE alone
    expected = (0 if by_criteria else 1) + (1 if wanted_path else 0)
    if args.command in ("compile", "stats") and by_criteria and len(given) == 1:
        expected = 1  # a recipe file plus flags that add criteria it leaves open
    if len(given) != expected:
        shape = {"compile": "FILE", "stats": "FILE", "explain": "FILE PATH", "query": "FILE SELECTOR"}[args.command]
        raise UsageError(f"expected {shape} (or criteria flags instead of FILE)")
    path = given.pop() if wanted_path else None
    return (given[0] if given else None), path


def _take_dimension_flags(argv: list[str], command: argparse.ArgumentParser) -> tuple[list[str], list[tuple[str, str]]]:
    """Options the command does not define are criteria (`--service eks`). The library says which
    dimensions exist, so their names are checked once it is loaded; taking them out before
    argparse runs keeps their values from being read as positional arguments."""
    known = {option for action in command._actions for option in action.option_strings}
    rest: list[str] = []
    flags: list[tuple[str, str]] = []
    items = iter(argv)
    for item in items:
        name, equals, value = item.partition("=")
        if not item.startswith("--") or name in known or item == "--":
            rest.append(item)
            continue
        if not equals:
            value = next(items, "")
            if not value or value.startswith("-"):
                raise UsageError(f"{name} needs a value")
        flags.append((name[2:], value))
    return rest, flags


def _write(text: str, output: str | None) -> None:
    """Print, or replace `output` atomically: an error never leaves a half-written file behind."""
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    import tempfile
    from pathlib import Path

    from aicrc import diagnostics as diag

    target = Path(output)
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, target)
    except OSError as failure:
        raise diag.error("E0104", f"cannot write {output}: {failure.strerror}") from None


def _warn(compilation: Compilation) -> None:
    for warning in compilation.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _report(failure: diag.AicrcError, output_format: str) -> None:
    import json

    if output_format == "json":
        json.dump({"errors": [d.to_dict() for d in failure.diagnostics]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    color = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    print(failure.render(color=color), file=sys.stderr)


# ---- argument parsing ----------------------------------------------------------------------------

_EPILOG = """\
criteria: instead of a recipe FILE, name the cluster with one flag per dimension of the library,
  e.g. --service eks --accelerator gb200 --os ubuntu --intent training (--platform follows intent),
  or read a RecipeCriteria YAML file with --criteria FILE. Values are case-insensitive; `any` = unset.
exit codes: 0 ok, 1 the input has errors, 2 usage error
"""


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(
        prog="aicrc",
        description="Compile recipes for GPU-accelerated Kubernetes into version-locked deployment configurations.",
    )
    parser.add_argument("--version", action="version", version=f"aicrc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    by_name: dict[str, argparse.ArgumentParser] = {}

    def command(name: str, summary: str, handler: Any, usage_hint: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=summary, description=summary, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        sub.set_defaults(handler=handler)
        by_name[name] = sub
        sub.add_argument("inputs", nargs="*", metavar=usage_hint)
        sub.add_argument("--criteria", metavar="FILE", help="a RecipeCriteria YAML file (the reference system's format)")
        sub.add_argument(
            "--overlay", action="append", default=[], metavar="DIR", help="a private overlay folder (repeatable; also AICRC_PATH)"
        )
        sub.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="COMPONENT:PATH=VALUE",
            help="override one value (repeatable; VALUE is read as YAML)",
        )
        return sub

    compile_ = command("compile", "compile a recipe into one resolved, version-locked configuration", _compile, "FILE")
    compile_.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout (only when the compile succeeds)")
    compile_.add_argument(
        "--format",
        choices=("yaml", "json", "aicr"),
        default="yaml",
        help="output format (default yaml); json also for errors; aicr: the reference system's RecipeResult",
    )

    explain = command("explain", "show where a value came from and what it overrode", _explain, "FILE PATH")
    explain.add_argument("--format", choices=("text", "json"), default="text")

    query = command("query", "print one value or subtree of the compiled recipe", _query, "FILE SELECTOR")
    query.add_argument("--format", choices=("text", "json"), default="text", help="text: scalars raw, subtrees as YAML")

    stats = command("stats", "count the components and configuration values of a compiled recipe", _stats, "FILE")
    stats.add_argument("--format", choices=("text", "json"), default="text")

    def across_recipes(name: str, summary: str, handler: Any) -> argparse.ArgumentParser:
        """A command over several compiles (no single FILE or criteria): --overlay and --format."""
        sub = commands.add_parser(name, help=summary, description=summary)
        sub.set_defaults(handler=handler)
        sub.add_argument("--overlay", action="append", default=[], metavar="DIR", help="a private overlay folder (repeatable)")
        sub.add_argument("--format", choices=("text", "json"), default="text")
        return sub

    diff = across_recipes("diff", "compare two recipes: components swapped and values changed (exit 0 equal, 1 different, 2 errors)", _diff)
    diff.add_argument("a", metavar="A")
    diff.add_argument("b", metavar="B")
    diff.add_argument("--set", action="append", default=[], metavar="COMPONENT:PATH=VALUE", help="applied to both sides")

    matrix = across_recipes("matrix", "compile every combination of dimension values, then each RECIPE (exit 1 if one fails)", _matrix)
    matrix.add_argument("recipes", nargs="*", metavar="RECIPE")

    def over_files(name: str, summary: str, detail: str, epilog: str, handler: Any, paths: str | None = None) -> argparse.ArgumentParser:
        """A tool that works on files and folders named on the command line (fmt, check, import)."""
        sub = commands.add_parser(name, help=summary, description=f"{summary} {detail}", epilog=f"exit codes: {epilog}")
        sub.set_defaults(handler=handler)
        sub.add_argument("paths", nargs="+", metavar="PATH", help=paths)
        return sub

    fmt = over_files(
        "fmt",
        "format .aicr files in place in the one canonical layout",
        "(folders are searched for *.aicr)",
        "0 ok (with --check: nothing to change), 1 a file would change (--check) or has errors, 2 usage error",
        _fmt,
    )
    mode = fmt.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="change nothing; list the files that would change and exit 1 if any")
    mode.add_argument("--diff", action="store_true", help="change nothing; print what would change as a unified diff")

    check = over_files(
        "check",
        "lint .aicr files: findings with stable codes, places and fix hints",
        "(folders are searched for *.aicr)",
        "0 no findings, 1 findings, 2 a file could not be checked (or usage error)",
        _check,
    )
    check.add_argument("--overlay", action="append", default=[], metavar="DIR", help="a private overlay folder (repeatable)")
    check.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="sarif: SARIF 2.1.0 for code scanning")

    lsp = commands.add_parser(
        "lsp",
        help="run the language server over stdio (for editors)",
        description="run the language server over stdio: diagnostics, hover with provenance, definitions, completion, formatting",
    )
    lsp.set_defaults(handler=_lsp)
    lsp.add_argument("--stdio", action="store_true", help="accepted for editors that pass it; stdio is the only transport")

    import_ = over_files(
        "import",
        "convert the reference system's overlays (RecipeMetadata YAML) to .aicr files",
        "with their values files and registry.yaml; then compile each overlay's criteria both ways and report every value that differs",
        "0 written (differences are warnings), 1 an input has errors (nothing is written), 2 usage error",
        _import,
        paths="overlay files, or the reference's data folder (holding overlays/)",
    )
    import_.add_argument("-o", "--output", required=True, metavar="DIR", help="where to write the .aicr files")
    import_.add_argument("--data", metavar="DIR", help="the folder valuesFile and manifestFiles paths are relative to (found if omitted)")

    schema = commands.add_parser(
        "schema", help="print the JSON Schema of compiled recipes", description="print the JSON Schema of compiled recipes"
    )
    schema.set_defaults(handler=_schema)
    schema.add_argument("-o", "--output", metavar="FILE")
    return parser, by_name
