"""Results computed from one object of a loaded library (a component's definition), kept for as
long as that object lives, so that compiles against the same library share them.

Keyed by the object's identity (a Record's hash would walk its whole AST), and forgotten by a
weak reference's callback the moment the object dies, before its id can be reused: a long-running
server that reloads libraries keeps no stale entry and needs no size limit.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class PerObject(Generic[Value]):
    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[object], Value]] = {}

    def get(self, owner: object, compute: Callable[[], Value]) -> Value:
        """The value computed for `owner`, computing it the first time."""
        entry = self._entries.get(id(owner))
        if entry is not None:
            return entry[1]
        value = compute()
        self.remember(owner, value)
        return value

    def find(self, owner: object) -> Value | None:
        entry = self._entries.get(id(owner))
        return entry[1] if entry is not None else None

    def remember(self, owner: object, value: Value) -> None:
        key = id(owner)
        self._entries[key] = (weakref.ref(owner, lambda _: self._entries.pop(key, None)), value)

    def __len__(self) -> int:
        return len(self._entries)
