"""aicrc's own routes: what they are asked to compile, and how a posted recipe is kept to the library.

A recipe is named one of three ways, like the command line's FILE or criteria flags:

    {"source": "import \\"...\\"\\nrecipe r { service = eks ... }"}    the text of a .aicr file
    {"recipe": "blackwell-eks-training"}                               a recipe shipped with aicrc
    {"criteria": {"service": "eks", "accelerator": "gb200"}}           criteria alone (defaults apply)

each with `set` (`component:path=value`, as `--set`) and `strict` (warnings are errors).

A posted source has no folder on the server, so it imports by name only, from the standard
library and the overlays the server was started with: an import that is absolute, relative
(`./`, `../`) or climbs out of a folder (`a/../../etc/passwd`) is refused (E0950), at its line,
before any file is looked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aicrc import diagnostics as diag
from aicrc.api import Compilation, Library, RawCriterion, parse_override
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import parse
from aicrc.resources import recipes_dir
from aicrc.server.envelope import ApiError, from_diagnostics
from aicrc.source import SourceFile

NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
SUFFIX = ".aicr"


class RecipeInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        populate_by_name=True,
        json_schema_extra={"oneOf": [{"required": ["source"]}, {"required": ["recipe"]}, {"required": ["criteria"]}]},
    )

    source: str | None = Field(None, description="The text of a .aicr file holding one recipe; it imports by name only.")
    name: str = Field(
        "recipe.aicr", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.aicr$", description="The file name diagnostics give `source`."
    )
    recipe: str | None = Field(None, pattern=NAME, description="The name of a recipe shipped with aicrc (blackwell-eks-training).")
    criteria: dict[str, str] | None = Field(
        None, description="Dimension: value, as the criteria flags give them; a dimension's default applies when it is not named."
    )
    overrides: list[str] = Field(
        default_factory=list, alias="set", max_length=100, description="component:path=value, as --set (the value read as YAML)."
    )
    strict: bool = Field(False, description="Treat warnings (W codes) as errors.")

    @model_validator(mode="after")
    def _one_recipe(self) -> RecipeInput:
        named = [field for field in ("source", "recipe", "criteria") if getattr(self, field) is not None]
        if len(named) != 1:
            raise ValueError(f"name the recipe one way: source, recipe or criteria (given: {', '.join(named) or 'none'})")
        return self


class CompileRequest(RecipeInput):
    format: Literal["compiled", "aicr"] = Field(
        "compiled", description="compiled: aicrc's CompiledRecipe; aicr: the reference's RecipeResult."
    )


class ExplainRequest(RecipeInput):
    path: str = Field(min_length=1, max_length=1000, description="A dotted path in the compiled recipe: gpu-operator.driver.version.")


class ValidateRequest(RecipeInput):
    snapshot: dict[str, Any] | str = Field(
        description="The cluster's Snapshot (as `aicrc snapshot` writes it): an object, or its YAML text."
    )
    phase: Literal["readiness"] = "readiness"


class DiffRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    a: RecipeInput
    b: RecipeInput


def compile_input(library: Library, given: RecipeInput, allowed: Mapping[str, frozenset[str]]) -> Compilation:
    """The compilation `given` names; its errors as a 400 (404 for no such shipped recipe)."""
    try:
        overrides = [parse_override(text) for text in given.overrides]
        if given.source is not None:
            source = SourceFile(given.name, given.source)
            confine_imports(source)
            compilation = library.compile_buffer(source, None, overrides=overrides)
            if given.strict and compilation.warnings:
                raise diag.AicrcError([w.replace(severity="error") for w in compilation.warnings], compilation.sources)
        elif given.recipe is not None:
            compilation = library.compile_file(shipped(given.recipe), overrides=overrides, strict=given.strict)
        else:
            criteria = [RawCriterion(name, value, where=f"criteria.{name}") for name, value in (given.criteria or {}).items()]
            compilation = library.compile(criteria, overrides=overrides, strict=given.strict)
    except diag.AicrcError as failure:
        raise from_diagnostics(failure, "the recipe has errors") from None
    _check_allowed(compilation, allowed)
    return compilation


def confine_imports(source: SourceFile) -> None:
    """E0950 for each import of `source` that is not a name under the library's and overlays' folders."""
    try:
        module = parse(source, store=False)
    except diag.AicrcError:
        return  # the compile reports the syntax error, with everything else wrong
    problems = diag.Collector()
    for item in module.items:
        if isinstance(item, ast.Import) and not _by_name(item.target):
            problems.add(
                "E0950",
                f'import "{item.target}": a recipe sent to the server imports by name, from the library and its overlays',
                item.span,
                help='name the file as the library knows it (import "features"), without a leading `/`, `./` or `..`',
            )
    problems.raise_if_any({source.display: source})


def _by_name(target: str) -> bool:
    parts = target.split("/")
    return all(part not in ("", ".", "..") and "\\" not in part and part.isprintable() for part in parts)


def shipped(name: str) -> str:
    """The file of a recipe shipped with aicrc."""
    found = {path.name.removesuffix(SUFFIX): path for path in recipes_dir().glob(f"*{SUFFIX}")}
    name = name.removesuffix(SUFFIX)
    if not re.fullmatch(NAME, name) or name not in found:
        raise ApiError(
            "NOT_FOUND",
            f"no recipe named {name!r} ships with aicrc",
            {"error": diag.did_you_mean(name, found) or "details.recipes lists the recipes aicrc ships", "recipes": sorted(found)},
        )
    return str(found[name])


def _check_allowed(compilation: Compilation, allowed: Mapping[str, frozenset[str]]) -> None:
    for dimension, values in allowed.items():
        value = compilation.resolved.criteria.get(dimension)
        if value is not None and value not in values:
            raise ApiError(
                "INVALID_REQUEST",
                f"{dimension} not allowed",
                {"error": f"the recipe is for {dimension} {value!r}, which this server does not serve", "allowed": sorted(values)},
            )
