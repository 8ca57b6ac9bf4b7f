"""Values and predicates nested too deeply, found in Lark's parse tree before any AST is built.

Lark builds its tree without recursion, so any input reaches this point; refusing what nests past
`ast.MAX_NESTING` here lets every later stage recurse over the AST.
"""

from __future__ import annotations

from lark import Token, Tree

from aicrc import diagnostics as diag
from aicrc.compiler.syntax import ast
from aicrc.source import Span


def problems(tree: Tree[Token], file: str) -> list[diag.Diagnostic]:
    """E0106 where a value or a predicate first goes deeper than `ast.MAX_NESTING`: at the key,
    the `[` or the `not`/`and`/`or` of the first level too many (one report per structure)."""
    problems: list[diag.Diagnostic] = []
    pending: list[tuple[Tree[Token] | Token, int]] = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        if not isinstance(node, Tree):
            continue
        if node.data in ("set_stmt", "entry"):  # a path, then its value: each key is a level
            path, value = node.children
            keys = _value_keys(path)
            if depth + len(keys) > ast.MAX_NESTING:
                problems.append(_too_deep("values", token_span(file, keys[ast.MAX_NESTING - depth])))
            else:
                pending.append((value, depth + len(keys)))
            continue
        level = _level(node)
        if level is not None:
            if depth == ast.MAX_NESTING:
                line, column = node.meta.line, node.meta.column
                problems.append(_too_deep(level, Span(file, line, column, line, column + 1)))
                continue
            depth += 1
        pending.extend((child, depth) for child in reversed(node.children))
    return problems


def _level(node: Tree[Token]) -> str | None:
    """What a node is a level of, besides path keys: a list of values; `not` of a predicate, and
    `and` and `or` when they join two or more operands (one alone is a predicate in parentheses)."""
    if node.data == "list_value":
        return "values"
    if node.data == "not_pred" or (node.data in ("and_pred", "or_pred") and len(node.children) > 1):
        return "predicates"
    return None


def _value_keys(path: Tree[Token] | Token) -> list[Token]:
    """The keys a path adds to the depth of its value: a `set` target's first segment names the
    component, so it is not one of them."""
    assert isinstance(path, Tree)
    if path.data == "target":
        _component, first, rest = path.children
        assert isinstance(first, Token) and isinstance(rest, Tree)
        return [first, *(key for key in rest.children if isinstance(key, Token))]
    return [key for key in path.children if isinstance(key, Token)]


def _too_deep(what: str, span: Span) -> diag.Diagnostic:
    if what == "values":
        hint = "each key of a path and each list is a level; real Helm values nest fewer than 20: flatten the structure"
    else:
        hint = "each `not`, `and` and `or` is a level: simplify the condition"
    return diag.Diagnostic("E0106", f"{what} nest more than {ast.MAX_NESTING} levels deep", span, help=hint)


def token_span(file: str, token: Token) -> Span:
    line, column, end_line, end_column = token.line, token.column, token.end_line, token.end_column
    assert line is not None and column is not None and end_line is not None and end_column is not None  # set by the lexer
    return Span(file, line, column, end_line, end_column)
