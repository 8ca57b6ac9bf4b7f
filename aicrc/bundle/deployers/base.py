"""What a deployer is: a name, and how it turns a compiled recipe into files."""

from __future__ import annotations

from collections.abc import Callable

from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Recipe
from aicrc.records import Record


class Deployer(Record):
    name: str
    render: Callable[[Recipe], Bundle]
