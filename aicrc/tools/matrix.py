"""`aicrc matrix`: compile every combination of dimension values, in-process, and the shipped
recipes; a table of what compiles, how many components, and what went wrong."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from aicrc import diagnostics as diag
from aicrc.api import Compilation, Library


@dataclass
class Row:
    subject: str  # `eks gb200 ubuntu training kubeflow`, or a recipe file
    components: int | None  # None when it did not compile
    note: str  # the first error, or the warnings

    @property
    def ok(self) -> bool:
        return self.components is not None


def matrix(
    library: Library, recipes: Sequence[str | Path] = (), *, on_row: Callable[[Row], object] = lambda row: None
) -> tuple[list[str], list[Row], list[Row]]:
    """`on_row` hears of each row as soon as it is compiled: a progress bar advances with it."""
    dimensions = library.dimensions
    combinations = []
    for values in itertools.product(*dimensions.values()):
        criteria = dict(zip(dimensions, values, strict=True))
        combinations.append(_row(" ".join(values), partial(library.compile, criteria), on_row))
    files = [_row(str(recipe), partial(library.compile_file, recipe), on_row) for recipe in recipes]
    return list(dimensions), combinations, files


def count(library: Library, recipes: Sequence[str | Path] = ()) -> int:
    """How many rows `matrix` compiles: the total of a progress bar."""
    return math.prod(len(values) for values in library.dimensions.values()) + len(recipes)


def _row(subject: str, compile_one: Callable[[], Compilation], on_row: Callable[[Row], object]) -> Row:
    try:
        compilation = compile_one()
    except diag.AicrcError as failure:
        first = failure.diagnostics[0]
        more = f" (+{len(failure.diagnostics) - 1} more)" if len(failure.diagnostics) > 1 else ""
        row = Row(subject, None, f"{first.code} {first.message}{more}")
    else:
        row = Row(subject, len(compilation.resolved.components), "; ".join(w.message for w in compilation.warnings))
    on_row(row)
    return row


def render_text(dimensions: list[str], combinations: list[Row], files: list[Row]) -> str:
    width = max([len(" ".join(dimensions)), *(len(r.subject) for r in combinations + files)])
    lines = [f"{' '.join(dimensions):<{width}}  status  components  notes"]
    for row in combinations + files:
        status = "ok" if row.ok else "FAIL"
        count = "" if row.components is None else str(row.components)
        lines.append(f"{row.subject:<{width}}  {status:<6}  {count:>10}  {row.note}".rstrip())
    failed = sum(not r.ok for r in combinations)
    warned = sum(r.ok and bool(r.note) for r in combinations)
    summary = f"{len(combinations)} combinations: {len(combinations) - failed} compile ({warned} with warnings), {failed} fail"
    if files:
        summary += f"; {len(files)} recipes: {sum(r.ok for r in files)} compile, {sum(not r.ok for r in files)} fail"
    return "\n".join([*lines, summary]) + "\n"


def to_data(dimensions: list[str], combinations: list[Row], files: list[Row]) -> dict[str, object]:
    def row(r: Row) -> dict[str, object]:
        return {"subject": r.subject, "ok": r.ok, "components": r.components, "note": r.note}

    return {"dimensions": dimensions, "combinations": [row(r) for r in combinations], "recipes": [row(r) for r in files]}
