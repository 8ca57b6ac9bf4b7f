"""Comparing a measured value with a constraint's, exactly as the reference does (AICR v0.11.1,
pkg/version and pkg/constraints), so a cluster passes here exactly when it passes there.

Versions: one `v` is dropped; what follows the first `-` or `+` that comes right after a digit is
extras, ignored (`6.8.0-1024-aws` is 6.8.0, `v1.32.4-eks-3025e55` is 1.32.4); then one to three
numbers separated by dots. `>=`, `>`, `<=` and `<` compare only as many numbers as the shorter
side has (`6.8.0-1024-aws >= 6.8` holds, and so does `1.32 >= 1.32.9`), and fail when a side is not
a version. The reference writes aicrc's `==` as a bare value, which it compares as text, exactly
(`24.04` is not `24.4`); `!=` compares versions when the expected value looks like one (a digit and
a dot) and both sides parse, and text otherwise.
"""

from __future__ import annotations

import re

from aicrc.records import Record

_NUMBER = re.compile(r"[+-]?[0-9]+")  # Go's strconv.Atoi accepts a sign
_INT64_MAX = 2**63 - 1


class Version(Record):
    major: int
    minor: int
    patch: int
    precision: int  # how many numbers were written: 1, 2 or 3

    def numbers(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)


def parse_version(text: str) -> Version | None:
    """The reference's ParseVersion; None where it returns an error."""
    text = text.removeprefix("v")
    if not text:
        return None
    main = text
    for index, char in enumerate(text):
        if char in "-+" and index > 0 and text[index - 1].isdigit() and text[index - 1].isascii():
            main = text[:index]
            break
    parts = main.split(".")
    if len(parts) > 3 or not all(_NUMBER.fullmatch(part) for part in parts):
        return None
    numbers = [int(part) for part in parts]
    if any(number < 0 or number > _INT64_MAX for number in numbers):
        return None
    major, minor, patch = [*numbers, 0, 0][:3]
    return Version(major, minor, patch, len(parts))


def compare(actual: Version, expected: Version) -> int:
    """-1, 0 or 1, over as many numbers as the less precise side has."""
    width = min(actual.precision, expected.precision)
    left, right = actual.numbers()[:width], expected.numbers()[:width]
    return (left > right) - (left < right)


class Outcome(Record):
    passed: bool
    problem: str = ""  # why the values could not be compared; then `passed` is False


def evaluate(operator: str, expected: str, actual: str) -> Outcome:
    """Whether `actual OPERATOR expected` holds, as the reference evaluates it."""
    actual = actual.strip()
    if operator == "==":
        return Outcome(actual == expected)
    if operator == "!=":
        if _looks_like_version(expected):
            want, have = parse_version(expected), parse_version(actual)
            if want is not None and have is not None:
                return Outcome(want.numbers() != have.numbers())
        return Outcome(actual != expected)
    want = parse_version(expected)
    if want is None:
        return Outcome(False, f"the expected value {expected!r} is not a version")
    have = parse_version(actual)
    if have is None:
        return Outcome(False, f"the measured value {actual!r} is not a version")
    order = compare(have, want)
    holds = {">=": order >= 0, ">": order > 0, "<=": order <= 0, "<": order < 0}
    return Outcome(holds[operator])


def _looks_like_version(text: str) -> bool:
    text = text.removeprefix("v")
    return any(char in "0123456789" for char in text) and "." in text
