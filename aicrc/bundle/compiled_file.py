"""A compiled recipe read back from a file (what `aicrc compile` wrote, YAML or JSON): parsed,
validated strictly against the pydantic model, and checked for what a bundle needs, with every
problem located at its line and column (E0803, E0804).
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from aicrc import diagnostics as diag
from aicrc.bundle.recipe import DocumentPath, Recipe, from_document
from aicrc.compiler.load.files import read_source
from aicrc.source import SourceFile, Span

try:  # libyaml's parser is several times faster; the pure-Python one reads the same
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

KIND = "CompiledRecipe"
HELP = "give the file `aicrc compile RECIPE -o FILE` wrote (`aicrc schema` prints its JSON Schema)"


def read_compiled(path: Path) -> Recipe:
    display = path.as_posix()
    if not path.exists():
        raise diag.error("E0104", f"no such file: {display}", help=HELP)
    source = read_source(path, display)  # unreadable, too large, not UTF-8: located errors
    locator = _Locator(source)
    try:
        document = _parse(source)
        _validate(document, locator)
        return from_document(document, locator)
    except diag.AicrcError as failure:
        failure.sources[display] = source
        raise


def _parse(source: SourceFile) -> Any:
    try:
        if source.display.endswith(".json"):
            return json.loads(source.text)
        return yaml.load(source.text, Loader=_Loader)
    except json.JSONDecodeError as failure:
        raise _invalid(f"invalid JSON: {failure.msg}", _point(source.display, failure.lineno, failure.colno)) from None
    except yaml.YAMLError as failure:
        mark = getattr(failure, "problem_mark", None)
        where = _point(source.display, mark.line + 1, mark.column + 1) if mark else None
        raise _invalid(f"invalid YAML: {getattr(failure, 'problem', None) or failure}", where) from None
    except RecursionError:
        raise _invalid("the file nests too deeply to be a compiled recipe", None) from None


def _validate(document: Any, locator: _Locator) -> None:
    import pydantic

    from aicrc.compiler.emit.model import CompiledRecipe

    kind = document.get("kind") if isinstance(document, dict) else None
    if kind != KIND:
        shown = f"kind: {kind}" if isinstance(kind, str) else "no `kind: CompiledRecipe`"
        raise _invalid(f"{locator.source.display} is not a compiled recipe ({shown})", locator(("kind",) if kind else ()))
    try:
        CompiledRecipe.model_validate(document, strict=True)
    except pydantic.ValidationError as failure:
        raise diag.AicrcError(
            [
                diag.Diagnostic(
                    "E0803", f"not a compiled recipe: {_dotted(error['loc'])}: {error['msg']}", locator(error["loc"]), help=HELP
                )
                for error in failure.errors(include_url=False)
            ]
        ) from None
    except RecursionError:
        raise _invalid("the file nests too deeply to be a compiled recipe", None) from None


def _invalid(message: str, where: Span | None) -> diag.AicrcError:
    return diag.AicrcError([diag.Diagnostic("E0803", message, where, help=HELP)])


def _point(display: str, line: int, column: int) -> Span:
    return Span(display, line, column, line, column + 1)


def _dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).removeprefix(".") or "the document"


class _Locator:
    """The place of a document path in the file, found by composing it as YAML (JSON is YAML too)
    the first time a problem needs one: the deepest node of the path that exists."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source

    @cached_property
    def _root(self) -> yaml.Node | None:
        try:
            return yaml.compose(self.source.text, Loader=_Loader)
        except (yaml.YAMLError, RecursionError):
            return None

    def __call__(self, path: DocumentPath) -> Span | None:
        node = self._root
        if node is None:
            return None
        for part in path:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                found = [value for key, value in node.value if isinstance(key, yaml.ScalarNode) and key.value == part]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                found = [node.value[part]]
            else:
                found = []
            if not found:
                break
            node = found[0]
        start, end = node.start_mark, node.end_mark
        return Span(self.source.display, start.line + 1, start.column + 1, end.line + 1, end.column + 1)
