"""`aicrc fmt`: one canonical layout for `.aicr` files.

The formatter prints the AST again: 4-space indentation, one statement a line, single spaces
around `=`, `==`, `:` and after commas, one blank line between declarations. What the author chose
is kept: the order of everything, blank lines between statements (at most one), comments on their
own lines or at the end of a line, whether a list or map is written on one line or across several,
and literals exactly as written (`1.50`, `"\\u00e9"`). Spellings that mean the same are made one:
a map entry with entries is always `key { ... }` (never `key = { ... }`), quoted path segments that need no
quotes lose them, and parentheses in predicates appear exactly where the structure needs them.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable, Sequence

from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.parser import parse
from aicrc.compiler.syntax.walk import Visitor
from aicrc.source import SourceFile, Span

INDENT = "    "


def format_source(source: SourceFile) -> str:
    """The canonical text of a file; raises `AicrcError` (and formats nothing) on a syntax error."""
    module = parse(source)
    return _Printer(source.text, module.comments).module(module)


class _Printer(Visitor):
    def __init__(self, text: str, comments: Sequence[ast.Comment]) -> None:
        self.source_lines = text.split("\n")
        self.comments = list(comments)
        self.comment_lines = [comment.span.line for comment in self.comments]  # ascending: source order
        self.pending = 0  # index of the first comment not printed yet
        self.out: list[str] = []
        self.current: str | None = None  # the line being built
        self.depth = 0

    # ---- lines and comments ---------------------------------------------------------------------

    def _blank_in_source_before(self, line: int) -> bool:
        return line >= 2 and self.source_lines[line - 2].strip() == ""

    def _blank(self) -> None:
        """One blank line, unless at the start of the file or of a block, or after another."""
        if self.out and self.out[-1] != "" and not self.out[-1].endswith(("{", "[")):
            self.out.append("")

    def _comments_before(self, line: int, depth: int) -> None:
        """Comments on lines before `line` not printed yet, each on its own line."""
        while self.pending < len(self.comments) and self.comments[self.pending].span.line < line:
            comment = self.comments[self.pending]
            self.pending += 1
            if self._blank_in_source_before(comment.span.line):
                self._blank()
            self.out.append(INDENT * depth + comment.text.rstrip())

    def start(self, span: Span, depth: int, *, keep_blank: bool = True) -> None:
        """Begin the line of a node that starts at `span`: its leading comments first."""
        self._comments_before(span.line, depth)
        if keep_blank and self._blank_in_source_before(span.line):
            self._blank()
        self.depth = depth
        self.current = INDENT * depth

    def put(self, text: str) -> None:
        assert self.current is not None
        self.current += text

    def end(self, line: int) -> None:
        """Finish the current line; a comment that ended source line `line` goes at its end.
        Comments from earlier lines that were folded into this one go above it."""
        assert self.current is not None
        text, self.current = self.current, None
        self._comments_before(line, self.depth)
        if self.pending < len(self.comments) and self.comments[self.pending].span.line == line:
            text += "  " + self.comments[self.pending].text.rstrip()
            self.pending += 1
        self.out.append(text.rstrip())

    def close(self, opener: str, closer: str, items: Sequence[ast.Value | ast.Entry], span: Span, item: Callable[..., None]) -> None:
        """A bracketed sequence over several lines: opener, one item a line, closer."""
        self.put(opener)
        self.end(span.line)
        depth = self.depth
        for node in items:
            self.start(node.span, depth + 1)
            item(node)
            self.end(node.span.end_line)
        self._comments_before(span.end_line, depth + 1)
        self.depth = depth
        self.current = INDENT * depth + closer

    def token(self, span: Span) -> str:
        """A single-line token exactly as written."""
        return self.source_lines[span.line - 1][span.col - 1 : span.end_col - 1]

    # ---- declarations ---------------------------------------------------------------------------

    def module(self, module: ast.Module) -> str:
        previous: ast.Declaration | None = None
        for item in module.items:
            both_imports = isinstance(previous, ast.Import) and isinstance(item, ast.Import)
            if previous is not None and not both_imports:
                self._blank()
            self.declaration(item)
            previous = item
        self._comments_before(len(self.source_lines) + 1, 0)
        while self.out and self.out[-1] == "":
            self.out.pop()
        return "\n".join(self.out) + "\n" if self.out else ""

    def declaration(self, item: ast.Declaration) -> None:
        self.start(item.span, 0)
        self.walk(item)

    def visit_Import(self, item: ast.Import) -> None:
        self.put(f"import {_string(item.target)}")
        self.end(item.span.end_line)

    def visit_Dimension(self, item: ast.Dimension) -> None:
        self.put(f"{'extend dimension' if item.extends else 'dimension'} {item.name.text} ")
        self.block(item.clauses, item.name.span.line, item.span, self.dimension_clause)

    def visit_Component(self, item: ast.Component) -> None:
        self.put(f"component {item.name.text} ")
        self.block(item.clauses, item.name.span.line, item.span, self.component_clause)

    def visit_Feature(self, item: ast.Feature) -> None:
        self.put(f"feature {item.name.text} ")
        self.block(item.body, item.name.span.line, item.span, self.walk)

    def visit_Layer(self, item: ast.Layer) -> None:
        self.put(f"layer {item.name.text}: {item.kind.text} ")
        header_end = item.kind.span.line
        if item.when is not None:
            self.put(f"when {_predicate(item.when)} ")
            header_end = item.when.span.end_line
        self.block(item.body, header_end, item.span, self.walk)

    def visit_Recipe(self, item: ast.Recipe) -> None:
        self.put(f"recipe {item.name.text} ")
        self.block(item.statements, item.name.span.line, item.span, self.walk)

    def block(
        self, statements: Sequence[ast.Clause | ast.Statement | ast.Binding], header_end: int, span: Span, each: Callable[..., None]
    ) -> None:
        """`{ statements }`; an empty block with nothing inside prints as `{}`."""
        # the first unprinted comment from the header on: a search, not a scan, keeps big files linear
        first = bisect.bisect_left(self.comment_lines, header_end, lo=self.pending)
        inner_comments = first < len(self.comment_lines) and self.comment_lines[first] < span.end_line
        if not statements and not inner_comments:
            self.put("{}")
            self.end(span.end_line)
            return
        self.put("{")
        self.end(header_end)
        for number, statement in enumerate(statements):
            self.start(statement.span, 1, keep_blank=number > 0)
            each(statement)
            self.end(statement.span.end_line)
        self._comments_before(span.end_line, 1)
        self.depth = 0
        self.current = "}"
        self.end(span.end_line)

    def dimension_clause(self, clause: ast.Clause) -> None:
        node = clause.node
        if clause.keyword == "values":
            self.put(f"values {_names(node)}")
        elif clause.keyword == "family":
            self.put(f"family {node.name.text} = [{_names(node.members)}]")
        elif clause.keyword == "alias":
            self.put(f"alias {node.name.text} = {node.target.text}")
        else:
            self.put(f"default {node.value.text}" + (f" when {_predicate(node.when)}" if node.when is not None else ""))

    def component_clause(self, clause: ast.Clause) -> None:
        node = clause.node
        if clause.keyword == "chart":
            self.put(f"chart {node.name.text} from {self.token(node.repository.span)} version {self.token(node.version.span)}")
        elif clause.keyword in ("kind", "namespace"):
            self.put(f"{clause.keyword} {node.text}")
        elif clause.keyword == "needs":
            self.put(f"needs {_names(node)}")
        elif clause.keyword in ("manifest", "schema"):
            self.put(f"{clause.keyword} {self.token(node.span)}")
        else:
            self.put("values ")
            self.value(node)

    # ---- statements -----------------------------------------------------------------------------

    def visit_Binding(self, statement: ast.Binding) -> None:
        self.put(f"{statement.dimension.text} = {statement.value.text}")

    def visit_Use(self, statement: ast.Use) -> None:
        self.put(f"use {_names(statement.components)}")

    def visit_Drop(self, statement: ast.Drop) -> None:
        self.put(f"drop {_names(statement.components)}")

    def visit_Set(self, statement: ast.Set) -> None:
        self.put(f"set {statement.path} = ")
        self.value(statement.value)

    def visit_ValuesBlock(self, statement: ast.ValuesBlock) -> None:
        self.put(f"values {statement.component.text} ")
        self.value(statement.body)

    def visit_Needs(self, statement: ast.Needs) -> None:
        self.put(f"needs {statement.component.text}: {_names(statement.dependencies)}")

    def visit_AddManifest(self, statement: ast.AddManifest) -> None:
        self.put(f"manifest {statement.component.text} {self.token(statement.file.span)}")

    def visit_Enable(self, statement: ast.Enable) -> None:
        self.put(f"enable {_names(statement.features)}")

    def visit_Rule(self, statement: ast.Rule) -> None:
        self.put(f"when {_predicate(statement.when)} enable {_names(statement.features)}")

    def visit_Require(self, statement: ast.Require) -> None:
        phase = f"{statement.phase.text} " if statement.phase is not None else ""
        self.put(f"require {phase}{statement.path} {statement.op} ")
        self.value(statement.value)

    def visit_Check(self, statement: ast.Check) -> None:
        self.put(f"check {statement.phase.text} {_names(statement.names)}")

    # ---- values ---------------------------------------------------------------------------------

    def value(self, value: ast.Value) -> None:
        if isinstance(value, ast.Literal) or value.span.line == value.span.end_line or not _items(value):
            self.put(self.inline(value))
        elif isinstance(value, ast.ListValue):
            self.close("[", "]", value.items, value.span, self.list_item)
        else:
            self.close("{", "}", value.entries, value.span, self.entry)

    def list_item(self, item: ast.Value) -> None:
        self.value(item)
        self.put(",")

    def entry(self, entry: ast.Entry) -> None:
        self.put(f"{entry.path}{_entry_separator(entry.value)}")
        self.value(entry.value)

    def inline(self, value: ast.Value) -> str:
        if isinstance(value, ast.Literal):
            return self.token(value.span)
        if isinstance(value, ast.ListValue):
            return "[" + ", ".join(self.inline(item) for item in value.items) + "]"
        if not value.entries:
            return "{}"
        entries = (f"{e.path}{_entry_separator(e.value)}{self.inline(e.value)}" for e in value.entries)
        return "{ " + ", ".join(entries) + " }"


def _entry_separator(value: ast.Value) -> str:
    """`key { ... }` for a map with entries, `key = value` for the rest (`key = {}` included)."""
    return " " if isinstance(value, ast.MapValue) and value.entries else " = "


def _items(value: ast.ListValue | ast.MapValue) -> tuple[ast.Value | ast.Entry, ...]:
    return value.items if isinstance(value, ast.ListValue) else value.entries


def _names(names: Iterable[ast.Name]) -> str:
    return ", ".join(name.text for name in names)


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _predicate(predicate: ast.Predicate, parent: type | None = None) -> str:
    """Parentheses exactly where reading the text back needs them to give the same tree."""
    if isinstance(predicate, ast.Compare):
        return f"{predicate.dimension.text} {predicate.op} {predicate.value.text}"
    if isinstance(predicate, ast.In):
        return f"{predicate.dimension.text} in [{_names(predicate.values)}]"
    if isinstance(predicate, ast.Not):
        return f"not {_predicate(predicate.item, ast.Not)}"
    joiner = " and " if isinstance(predicate, ast.And) else " or "
    text = joiner.join(_predicate(item, type(predicate)) for item in predicate.items)
    needs_parentheses = parent is ast.Not or parent is type(predicate) or (parent is ast.And and isinstance(predicate, ast.Or))
    return f"({text})" if needs_parentheses else text
