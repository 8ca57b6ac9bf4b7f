"""Helm values with provenance: every leaf knows each assignment that set it, winner last.

Semantics follow Helm: maps merge key by key, scalars and lists replace, and `null` is kept as a
value (Helm deletes the chart default of a key set to null). Setting a key *through* a scalar or a
list (`a.b = 1` where `a = "x"`) is an error rather than a silent replacement.
"""

from __future__ import annotations

import json
from typing import Any

from aicrc import diagnostics as diag
from aicrc.records import Record
from aicrc.source import Span

Path = tuple[str, ...]


class Origin(Record):
    """Where a contribution comes from: a layer (or the component's defaults, the recipe, the
    command line), the statement's span, and the feature that carried it, if any."""

    layer: str
    kind: str
    span: Span | None
    feature: str | None = None
    rule: Span | None = None  # the `enable` (or `when ... enable` rule) that switched the feature on

    def describe(self) -> str:
        if self.kind in ("component", "command-line"):
            text = self.layer
        elif self.kind == "recipe":
            text = f"recipe {self.layer}"
        else:
            text = f"{self.kind} layer {self.layer}"
        if self.feature:
            text += f" via feature {self.feature}"
        return text


class Assignment(Record):
    component: str
    path: Path
    value: Any
    origin: Origin


class Contribution(Record):
    """One assignment as recorded in a leaf's history; `path` differs from the leaf's own path
    when a whole subtree was replaced from above."""

    value: Any
    origin: Origin
    path: Path


def same(a: Any, b: Any) -> bool:
    """Value equality that tells `true` from `1` and `1` from `1.0`, as YAML does."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


class ValueTree:
    """One component's values and the history of each leaf. A plain class, not a dataclass (see
    `model.Resolved`)."""

    def __init__(self, values: dict[str, Any] | None = None, history: dict[Path, list[Contribution]] | None = None) -> None:
        self.values: dict[str, Any] = {} if values is None else values
        self.history: dict[Path, list[Contribution]] = {} if history is None else history
        # The maps this tree may change in place, by id; a copy shares the others with its original
        # until it changes them (copy on write). Held here, so that no id is reused while it is known.
        self._own: dict[int, dict[str, Any]] = {id(self.values): self.values}

    def __repr__(self) -> str:
        return f"ValueTree({self.values!r})"

    def apply(self, assignment: Assignment) -> None:
        """Linear in the length of the path: a prefix of it is cut and hashed only where the tree
        changes shape, at most once per assignment."""
        path, value = assignment.path, assignment.value
        node = self.values
        for depth in range(len(path) - 1):
            segment = path[depth]
            child = node.get(segment)
            if isinstance(child, dict) and child:
                if id(child) not in self._own:
                    child = node[segment] = dict(child)
                    self._own[id(child)] = child
                node = child
                continue
            if child is not None and not isinstance(child, dict):
                raise self._through_scalar(assignment, path[: depth + 1], child)
            # Absent, null (a deeper set brings the key back as a map) or an empty-map leaf about
            # to gain keys: it is no longer a leaf, and nothing below it has a history, so the rest
            # of the path is built without looking anything up.
            self.history.pop(path[: depth + 1], None)
            for key in path[depth:-1]:
                fresh: dict[str, Any] = {}
                node[key] = self._own[id(fresh)] = fresh
                node = fresh
            break
        last = path[-1]
        existing = node.get(last, _MISSING)
        contribution = Contribution(value, assignment.origin, path)
        if isinstance(value, dict):  # only ever the empty map: other maps arrive as their leaves
            if isinstance(existing, dict):
                if not existing:  # a new list: a copy's lists are its original's too
                    self.history[path] = [*self.history.get(path, ()), contribution]
                return
            if existing is not _MISSING and existing is not None:
                raise self._through_scalar(assignment, path, existing)
            node[last] = {}
            self.history[path] = [*self.history.get(path, ()), contribution]
            return
        replaced: list[Contribution] = []
        if isinstance(existing, dict):
            replaced = self._take_subtree(path)
        node[last] = value
        self.history[path] = [*replaced, *self.history.get(path, ()), contribution]

    def copy(self) -> ValueTree:
        """An independent tree with the same values and histories, made without walking either:
        it shares the maps below the top, the history lists and the leaves with this one, and
        copies a map before it changes it (lists and leaves are replaced, never changed)."""
        return ValueTree(dict(self.values), dict(self.history))

    def _take_subtree(self, path: Path) -> list[Contribution]:
        taken: list[Contribution] = []
        for leaf in [p for p in self.history if len(p) > len(path) and p[: len(path)] == path]:
            taken += self.history.pop(leaf)
        taken += self.history.pop(path, [])
        return taken

    def _through_scalar(self, assignment: Assignment, blocker: Path, value: Any) -> diag.AicrcError:
        kind = "a list" if isinstance(value, list) else "null" if value is None else f"the {type(value).__name__} {json.dumps(value)}"
        shown = ".".join((assignment.component, *blocker))
        setters = self.history.get(blocker, [])
        labels = tuple(diag.Label(c.origin.span, f"`{shown}` set to {json.dumps(c.value)} here") for c in setters[-1:] if c.origin.span)
        return diag.error(
            "E0402",
            f"cannot set `{'.'.join((assignment.component, *assignment.path))}`: `{shown}` is {kind}, not a map",
            assignment.origin.span,
            labels=labels,
            help=f"set `{shown}` to null first, or set `{shown}` itself",
        )


_MISSING = object()


def leaf_paths(values: dict[str, Any]) -> dict[Path, Any]:
    """The configuration values of a tree: scalars (null included), whole lists and empty maps,
    depth first in key order. A loop rather than recursion, and a path is made into a tuple only
    at a leaf, so time and stack stay linear in the size of the tree however deep it is."""
    out: dict[Path, Any] = {}
    keys: list[str] = []  # the path to the map being read
    maps = [iter(values.items())]
    while maps:
        for key, value in maps[-1]:
            if isinstance(value, dict) and value:
                keys.append(key)
                maps.append(iter(value.items()))
                break
            out[(*keys, key)] = value
        else:
            maps.pop()
            if keys:
                keys.pop()
    return out
