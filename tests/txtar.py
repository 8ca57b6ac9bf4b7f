"""A txtar-like case format (as in CUE's testdata): one file holds a case's inputs and its
expected outputs, so a reviewer reads a case top to bottom.

    # what the case is about
    -- args --
    compile recipe.aicr
    -- recipe.aicr --
    ...
    -- exit --
    0
    -- stdout --
    ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_MARKER = re.compile(r"^-- (.+?) --$", re.MULTILINE)
OUTPUTS = ("exit", "stdout", "stderr")


@dataclass
class Case:
    comment: str
    files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Case:
        parts = _MARKER.split(text)
        case = cls(parts[0])
        for name, body in zip(parts[1::2], parts[2::2], strict=False):
            case.files[name] = body[1:] if body.startswith("\n") else body
        return case

    def format(self) -> str:
        out = [self.comment]
        for name, body in self.files.items():
            out.append(f"-- {name} --\n{body}")
            if body and not body.endswith("\n"):
                out.append("\n")
        return "".join(out)

    @property
    def inputs(self) -> dict[str, str]:
        return {name: body for name, body in self.files.items() if name not in OUTPUTS and name != "args"}
