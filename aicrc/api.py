"""The public API: everything the command line, the language server, the bundlers and the REST
API do goes through here.

    library = aicrc.load_library(overlays=["./acme"])     # load the library once ...
    a = library.compile({"service": "eks", "accelerator": "gb200", "intent": "training"})
    b = library.compile_file("recipes/blackwell-eks-inference.aicr")   # ... compile many
    a.document, a.to_yaml(), a.recipe (a pydantic CompiledRecipe), a.explain("gpu-operator.cdi")
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.criteria import RawCriterion
from aicrc.compiler.evaluate.engine import Override, evaluate
from aicrc.compiler.evaluate.memo import PerObject
from aicrc.compiler.evaluate.model import Resolved
from aicrc.compiler.load import loader
from aicrc.compiler.solve import Plan, solve
from aicrc.compiler.syntax import ast
from aicrc.records import Record
from aicrc.source import SourceFile
from aicrc.version import __version__

if TYPE_CHECKING:
    from aicrc.compiler.emit.model import CompiledRecipe
    from aicrc.compiler.evaluate.provenance import LeafStory

__all__ = [
    "Compilation",
    "Library",
    "Override",
    "RawCriterion",
    "compile_criteria",
    "compile_file",
    "compile_source",
    "load_library",
    "parse_override",
]


class Compilation(Record):
    """One compiled recipe: the document that is printed, and what it was resolved from."""

    resolved: Resolved
    plan: Plan
    sources: dict[str, SourceFile]
    program: loader.Program
    recipe_file: str | None = None  # the display name of the recipe's file, when compiled from one
    overrides: Sequence[Override] = ()

    def __repr__(self) -> str:  # not the sources and the program, which are the whole library
        return f"Compilation({self.resolved.recipe!r}, recipe_file={self.recipe_file!r})"

    @cached_property
    def document(self) -> dict[str, Any]:
        """The compiled recipe as plain data: what `compile` prints. Built on first use, since
        some callers need only the resolved recipe (`aicrc matrix` counts its components)."""
        from aicrc.compiler.emit.document import build

        with _guard(self.sources):
            return build(self.resolved, self.plan, _digest(self.program, self.resolved, self.overrides))

    @property
    def warnings(self) -> list[diag.Diagnostic]:
        """What compiled but probably not as meant (W codes; `strict=True` makes them errors)."""
        return self.resolved.warnings

    @cached_property
    def recipe(self) -> CompiledRecipe:
        """The document as a validated pydantic model (imports pydantic on first use)."""
        from aicrc.compiler.emit.model import CompiledRecipe

        return CompiledRecipe.model_validate(self.document)

    def render(self, output_format: str = "yaml") -> str:
        """yaml or json: the CompiledRecipe; aicr: the reference system's RecipeResult (YAML)."""
        from aicrc.compiler.emit.text import render, to_yaml

        if output_format == "aicr":
            from aicrc.compiler.emit.recipe_result import recipe_result

            return to_yaml(recipe_result(self.resolved, self.document, self.program.dimensions))
        return render(self.document, output_format)

    def explain(self, path: str | tuple[str, ...]) -> list[LeafStory]:
        from aicrc.compiler.evaluate.provenance import explain

        return explain(self.resolved, _dotted(path))

    def query(self, selector: str | tuple[str, ...]) -> Any:
        from aicrc.selectors import select

        path = _dotted(selector)
        try:
            return select(self.document, path)
        except LookupError as missing:
            where, choices = missing.args
            raise diag.error(
                "E0602",
                f"`{where}` is not in the compiled recipe",
                notes=(f"choices there: {', '.join(choices)}",) if choices else (),
                help=diag.did_you_mean(where.rsplit(".", 1)[-1], choices),
            ) from None


class Library:
    """The standard library plus private overlays, loaded once and compiled against many times."""

    def __init__(self, program: loader.Program) -> None:
        self.program = program

    @property
    def dimensions(self) -> dict[str, list[str]]:
        return {name: list(d.values) for name, d in self.program.dimensions.items()}

    def compile(
        self,
        criteria: Mapping[str, str] | Sequence[RawCriterion] = (),
        *,
        overrides: Sequence[Override] = (),
        name: str | None = None,
        strict: bool = False,
    ) -> Compilation:
        """Compile from criteria alone (no recipe file): `{"service": "eks", ...}`. With `strict`,
        warnings are errors."""
        raw = [RawCriterion(k, v) for k, v in criteria.items()] if isinstance(criteria, Mapping) else list(criteria)
        return _compile(self.program, None, raw, overrides, name, strict=strict)

    def compile_file(
        self,
        path: str | os.PathLike[str],
        *,
        criteria: Sequence[RawCriterion] = (),
        overrides: Sequence[Override] = (),
        strict: bool = False,
    ) -> Compilation:
        with _guard(self.program.sources):
            program, source = loader.add_recipe_file(self.program, Path(path))
        return _compile(program, _the_recipe(program, source), criteria, overrides, None, source.display, strict=strict)

    def compile_source(
        self,
        text: str,
        *,
        name: str = "<string>",
        directory: str | os.PathLike[str] | None = None,
        overrides: Sequence[Override] = (),
    ) -> Compilation:
        source = SourceFile(name, text, Path(directory) / name if directory else None)
        return self.compile_buffer(source, Path(directory) if directory else None, overrides=overrides)

    def compile_buffer(self, source: SourceFile, directory: Path | None, *, overrides: Sequence[Override] = ()) -> Compilation:
        """A recipe file as an editor holds it: its text, its name, where its imports resolve."""
        with _guard(self.program.sources | {source.display: source}):
            program = loader.add_recipe_source(self.program, source, directory)
        return _compile(program, _the_recipe(program, source), (), overrides, None, source.display)


def load_library(overlays: Sequence[str | os.PathLike[str]] = (), *, use_env: bool = True) -> Library:
    """Load the standard library, then `overlays`, then (unless `use_env=False`) `AICRC_PATH`."""
    with _guard({}):
        roots = loader.default_roots(overlays, use_env=use_env)
        library = Library(loader.load_library(roots))
    # A library is loaded once and compiled against many times. Its objects (with whatever else is
    # alive now) leave the cyclic collector's view for good; it would otherwise walk all of them,
    # three times over, before they settled (seconds, at 10,000 components). They hold no
    # reference cycle, so reference counting still frees them when the library is dropped.
    gc.freeze()
    return library


def compile_file(path: str | os.PathLike[str], *, overlays: Sequence[str] = (), overrides: Sequence[Override] = ()) -> Compilation:
    return load_library(overlays).compile_file(path, overrides=overrides)


def compile_source(text: str, *, name: str = "<string>", overlays: Sequence[str] = ()) -> Compilation:
    return load_library(overlays).compile_source(text, name=name)


def compile_criteria(criteria: Mapping[str, str], *, overlays: Sequence[str] = ()) -> Compilation:
    return load_library(overlays).compile(criteria)


def parse_override(text: str) -> Override:
    """`component:path.to.key=value`, the value read as YAML (`true`, `3`, `"3"`, `[a, b]`)."""
    import yaml

    from aicrc.selectors import parse_dotted

    component, colon, rest = text.partition(":")
    dotted, equals, raw_value = rest.partition("=")
    if not (colon and equals and component and dotted):
        raise diag.error(
            "E0601", f"--set {text!r}: expected component:path=value", help="e.g. --set gpu-operator:driver.version=580.105.08"
        )
    try:
        path = parse_dotted(dotted)
        value = yaml.safe_load(raw_value) if raw_value.strip() else ""
    except (ValueError, yaml.YAMLError) as failure:
        raise diag.error("E0601", f"--set {text!r}: {str(failure).splitlines()[0]}") from None
    except RecursionError:  # the YAML parser recursed past Python's limit: far deeper than allowed
        raise _too_deep(component) from None
    if len(path) + _depth(value) > ast.MAX_NESTING:
        raise _too_deep(component)
    return Override(component, path, value)


def _too_deep(component: str) -> diag.AicrcError:
    return diag.error(
        "E0106",
        f"--set {component}:...: the path and value nest more than {ast.MAX_NESTING} levels",
        help="values nest at most as deep as the language allows in a .aicr file",
    )


def _depth(value: Any) -> int:
    """How many maps and lists nest in `value` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, outside = stack.pop()  # `outside`: how many containers hold `node`
        if isinstance(node, dict | list):
            deepest = max(deepest, outside + 1)
            stack += [(child, outside + 1) for child in (node.values() if isinstance(node, dict) else node)]
    return deepest


# ---- internals -----------------------------------------------------------------------------------


def _dotted(path: str | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(path, tuple):
        return path
    from aicrc.selectors import parse_dotted

    try:
        return parse_dotted(path)
    except ValueError as failure:
        raise diag.error("E0601", str(failure)) from None


def _the_recipe(program: loader.Program, source: SourceFile) -> ast.Recipe:
    module = program.modules[source.display]
    recipes = [item for item in module.items if isinstance(item, ast.Recipe)]
    if len(recipes) == 1:
        return recipes[0]
    if not module.items and not source.text.strip(" \t\r\n"):
        raise diag.AicrcError(
            [diag.Diagnostic("E0107", f"{source.display} is empty", help="a recipe file holds `recipe NAME { ... }`")],
            program.sources,
        )
    if not recipes:
        raise diag.AicrcError(
            [
                diag.Diagnostic(
                    "E0204",
                    f"{source.display} defines no recipe",
                    help="add `recipe NAME { service = ... }`, or compile with criteria flags",
                )
            ],
            program.sources,
        )
    raise diag.AicrcError(
        [
            diag.Diagnostic(
                "E0204",
                f"{source.display} defines {len(recipes)} recipes; a recipe file holds one",
                recipes[1].name.span,
                labels=(diag.Label(recipes[0].name.span, "first recipe here"),),
                help="put each recipe in a file of its own",
            )
        ],
        program.sources,
    )


def _compile(
    program: loader.Program,
    recipe: ast.Recipe | None,
    criteria: Sequence[RawCriterion],
    overrides: Sequence[Override],
    name: str | None,
    recipe_file: str | None = None,
    *,
    strict: bool = False,
) -> Compilation:
    with _guard(program.sources):
        resolved = evaluate(program, recipe, criteria, overrides, name)
        if strict and resolved.warnings:
            raise diag.AicrcError([warning.replace(severity="error") for warning in resolved.warnings])
        plan = solve(resolved)
    return Compilation(resolved, plan, program.sources, program, recipe_file, tuple(overrides))


# Every compile digests every file of its library: each file's sha256 is worked out once.
_SOURCE_DIGESTS: PerObject[str] = PerObject()


def _digest(program: loader.Program, resolved: Resolved, overrides: Sequence[Override]) -> str:
    """sha256 over every input: file contents (not their location), manifests, criteria, --set."""
    hashes = sorted(_SOURCE_DIGESTS.get(source, partial(getattr, source, "sha256")) for source in program.sources.values())
    hashes += sorted(hashlib.sha256(m.content.encode()).hexdigest() for c in resolved.components.values() for m in c.manifests)
    extra = json.dumps(
        [__version__, resolved.recipe, resolved.criteria, [[o.component, list(o.path), o.value] for o in overrides]],
        sort_keys=True,
    )
    return hashlib.sha256("\n".join([*hashes, extra]).encode()).hexdigest()


@contextmanager
def _guard(sources: Mapping[str, SourceFile]) -> Iterator[None]:
    """Attach the source texts to errors, and turn runaway nesting into a diagnostic; and pause
    the cyclic garbage collector, as loading and compiling build large structures that hold no
    reference cycle: left on, it walks everything alive each time enough new objects pile up
    (a 10,000-component library loaded five times slower, and compiled in bursts of seconds)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    except diag.AicrcError as failure:
        failure.sources = {**sources, **failure.sources}
        raise
    except RecursionError:
        raise diag.AicrcError([diag.Diagnostic("E0106", "values or predicates are nested too deeply to compile")], sources) from None
    finally:
        if paused:
            gc.enable()
