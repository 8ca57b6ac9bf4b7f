"""One way to walk the AST, for every pass that reads it (name checks, evaluation, lint, the
language server, fmt).

A pass subclasses `Visitor` and defines `visit_<Node>` for the node classes it cares about
(`visit_Set`, `visit_Compare`, ...); every other node is walked through to its children. A
`visit_` method that wants the children too calls `self.generic_visit(node)`. This is the shape
of Python's own `ast.NodeVisitor`, and it replaces one hand-written `isinstance` ladder per pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from aicrc.compiler.syntax import ast
from aicrc.records import Record
from aicrc.source import Span


def children(node: Record) -> Iterator[Record]:
    """The AST nodes directly under `node`, in field order (spans and plain values are not nodes)."""
    for name in node._fields:
        value = node.__dict__[name]
        if isinstance(value, tuple):
            for item in value:
                if isinstance(item, Record) and not isinstance(item, Span):
                    yield item
        elif isinstance(value, Record) and not isinstance(value, Span):
            yield value


class Visitor:
    """Subclass and define `visit_<Node>(self, node)`; call `walk(node)` to start."""

    # per subclass: node class -> bound-method name, or None to walk through (looked up once)
    _dispatch: ClassVar[dict[type, str | None]]

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._dispatch = {}

    def walk(self, node: Record) -> None:
        kind = type(node)
        try:
            method_name = self._dispatch[kind]
        except KeyError:
            name = f"visit_{kind.__name__}"
            method_name = self._dispatch[kind] = name if callable(getattr(self, name, None)) else None
        if method_name is None:
            self.generic_visit(node)
        else:
            method: Callable[[Any], None] = getattr(self, method_name)
            method(node)

    def walk_all(self, nodes: tuple[Record, ...] | list[Record] | Iterator[Record]) -> None:
        for node in nodes:
            self.walk(node)

    def generic_visit(self, node: Record) -> None:
        for child in children(node):
            self.walk(child)


def predicate_dimensions(predicate: ast.Predicate | None) -> frozenset[str]:
    """The dimensions a predicate names (a layer's specificity is how many there are)."""
    if predicate is None:
        return frozenset()
    collector = _DimensionNames()
    collector.walk(predicate)
    return frozenset(collector.names)


class _DimensionNames(Visitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Compare(self, node: ast.Compare) -> None:
        self.names.add(node.dimension.text)

    def visit_In(self, node: ast.In) -> None:
        self.names.add(node.dimension.text)
