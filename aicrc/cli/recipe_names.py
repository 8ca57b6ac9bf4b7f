"""A recipe named on the command line: a file where the user stands, or a recipe aicrc ships.

`aicrc compile blackwell-eks-training` (or `blackwell-eks-training.aicr`) works from any directory
after `pip install`; a file of that name where the user stands always wins over the shipped one.
"""

from __future__ import annotations

from pathlib import Path

from aicrc import diagnostics as diag
from aicrc.cli.recording import depends_on
from aicrc.resources import recipes_dir

SUFFIX = ".aicr"


def recipe_path(given: str) -> str:
    """The file to compile for `given`; E0104, naming the shipped recipes, when there is none."""
    if Path(given).exists():
        return given
    depends_on(given)  # a compile replayed from the cache must see that it is still not here
    if not given.endswith(SUFFIX) and Path(given + SUFFIX).is_file():
        return given + SUFFIX
    depends_on(given + SUFFIX)
    shipped = shipped_recipes()
    name = given.removesuffix(SUFFIX)
    if name in shipped:  # a bare name: a path with folders is never a shipped recipe's name
        return str(shipped[name])
    raise diag.error(
        "E0104",
        f"no such file: {given}",
        notes=(f"shipped recipes, compiled by name: {', '.join(sorted(shipped))}",) if shipped else (),
        help=diag.did_you_mean(Path(name).name, shipped) or "check the path; recipes end in .aicr",
    )


def shipped_recipes() -> dict[str, Path]:
    """The recipes that ship with aicrc, by name (the file name without `.aicr`)."""
    try:
        directory = recipes_dir()
    except FileNotFoundError:  # an install without its recipes: names resolve to nothing
        return {}
    return {path.name.removesuffix(SUFFIX): path for path in sorted(directory.glob(f"*{SUFFIX}"))}
