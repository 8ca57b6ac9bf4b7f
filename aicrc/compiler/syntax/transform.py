"""Lark parse tree -> AST. Every node gets the span of the text it was built from.

Lark builds its tree without recursion, so any input reaches this module. `nesting.problems`
refuses values and predicates nested deeper than `ast.MAX_NESTING` before the tree is built, and
`ToAst` is Lark's non-recursive transformer (parentheses nest without limit and leave no trace in
the AST); past this module everything may recurse over the AST.
"""

from __future__ import annotations

import json
import math
from typing import Any

from lark import Token
from lark.tree import Meta
from lark.visitors import Transformer_NonRecursive, v_args

from aicrc import diagnostics as diag
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.nesting import token_span
from aicrc.compiler.syntax.strings import CONTROL, string_mistakes
from aicrc.source import Span

# ---- the transformer ----------------------------------------------------------------------------


class ToAst(Transformer_NonRecursive[Token, list[ast.Declaration]]):
    """Builds AST nodes; problems that the grammar cannot express (a repeated `chart`, a bad
    escape, an integer beyond 64 bits) are collected in `problems` rather than raised, so one
    parse reports them all."""

    __visit_tokens__ = False  # tokens reach the rules as they are

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.problems = diag.Collector()

    # ---- helpers --------------------------------------------------------------------------
    def _span(self, meta: Meta) -> Span:
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _token_span(self, token: Token) -> Span:
        return token_span(self.file, token)

    def _name(self, token: Token) -> ast.Name:
        return ast.Name(str(token), self._token_span(token))

    def _text(self, token: Token, names: str | None = None) -> str:
        """The text a string literal stands for. A string that `names` something (a file, a chart
        repository or version) may not hold a control character even as an escape: no file or
        chart is called that, and `open` refuses a NUL."""
        span = self._token_span(token)
        mistakes = list(string_mistakes(str(token)))
        for mistake in mistakes:  # a literal is one line: the offset is a column offset
            column = span.col + mistake.offset
            where = Span(self.file, span.line, column, span.line, column + mistake.width)
            self.problems.add(mistake.code, mistake.message, where, help=mistake.help)
        if mistakes:
            return ""  # never read: the parse fails with the problems above
        text: str = json.loads(str(token))
        if names is not None and CONTROL.search(text):
            self.problems.add("E0109", f"control character in a {names}", span, help=f"a {names} holds no control characters: remove it")
        return text

    def _string(self, token: Token, names: str | None = None) -> ast.Literal:
        return ast.Literal(self._text(token, names), self._token_span(token))

    # ---- values ---------------------------------------------------------------------------
    def _path(self, meta: Meta, segments: list[Token]) -> ast.Path:
        texts = tuple(self._text(s) if s.type == "STRING" else str(s) for s in segments)
        return ast.Path(texts, self._span(meta))

    @v_args(meta=True)
    def path(self, meta: Meta, segments: list[Token]) -> ast.Path:
        return self._path(meta, segments)

    measurement = path
    check_measurement = path

    @v_args(meta=True)
    def target(self, meta: Meta, children: list[Any]) -> ast.Path:
        head, first, rest = children
        return self._path(meta, [head, first, *rest])

    def target_rest(self, segments: list[Token]) -> list[Token]:
        return segments

    @v_args(meta=True)
    def string(self, meta: Meta, children: list[Token]) -> ast.Literal:
        return self._string(children[0])

    @v_args(meta=True)
    def integer(self, meta: Meta, children: list[Token]) -> ast.Literal:
        text = str(children[0])
        # `int` refuses texts of over 4300 digits; no text of over 19 digits fits in 64 bits anyway
        value = int(text) if len(text.lstrip("+-")) <= len(str(ast.MAX_INTEGER)) else None
        if value is None or not ast.MIN_INTEGER <= value <= ast.MAX_INTEGER:
            self.problems.add(
                "E0111",
                "integer out of range",
                self._span(meta),
                help=f"integers are 64-bit, from {ast.MIN_INTEGER} to {ast.MAX_INTEGER}, as Helm reads them; quote it to keep it as text",
            )
        return ast.Literal(value, self._span(meta))

    @v_args(meta=True)
    def float_number(self, meta: Meta, children: list[Token]) -> ast.Literal:
        value = float(children[0])
        if math.isinf(value):
            self.problems.add(
                "E0111",
                "number out of range",
                self._span(meta),
                help="numbers with a fraction or exponent are 64-bit floats, at most about 1.8e308; quote it to keep it as text",
            )
        return ast.Literal(value, self._span(meta))

    @v_args(meta=True)
    def true(self, meta: Meta, _: list[Any]) -> ast.Literal:
        return ast.Literal(True, self._span(meta))

    @v_args(meta=True)
    def false(self, meta: Meta, _: list[Any]) -> ast.Literal:
        return ast.Literal(False, self._span(meta))

    @v_args(meta=True)
    def null(self, meta: Meta, _: list[Any]) -> ast.Literal:
        return ast.Literal(None, self._span(meta))

    @v_args(meta=True)
    def list_value(self, meta: Meta, items: list[ast.Value]) -> ast.ListValue:
        return ast.ListValue(tuple(items), self._span(meta))

    @v_args(meta=True)
    def map_body(self, meta: Meta, entries: list[ast.Entry]) -> ast.MapValue:
        return ast.MapValue(tuple(entries), self._span(meta))

    block = map_body

    @v_args(meta=True)
    def entry(self, meta: Meta, children: list[Any]) -> ast.Entry:
        path, value = children  # `key { ... }` arrives as a bare MapValue, `key = v` as any value
        return ast.Entry(path, value, self._span(meta))

    def name_list(self, tokens: list[Token]) -> tuple[ast.Name, ...]:
        return tuple(self._name(t) for t in tokens)

    # ---- predicates -----------------------------------------------------------------------
    @v_args(meta=True)
    def compare_pred(self, meta: Meta, children: list[Token]) -> ast.Compare:
        dimension, op, value = children
        return ast.Compare(self._name(dimension), str(op), self._name(value), self._span(meta))

    @v_args(meta=True)
    def in_pred(self, meta: Meta, children: list[Any]) -> ast.In:
        dimension, values = children
        return ast.In(self._name(dimension), values, self._span(meta))

    @v_args(meta=True)
    def and_pred(self, meta: Meta, items: list[ast.Predicate]) -> ast.Predicate:
        return items[0] if len(items) == 1 else ast.And(tuple(items), self._span(meta))

    @v_args(meta=True)
    def or_pred(self, meta: Meta, items: list[ast.Predicate]) -> ast.Predicate:
        return items[0] if len(items) == 1 else ast.Or(tuple(items), self._span(meta))

    @v_args(meta=True)
    def not_pred(self, meta: Meta, children: list[ast.Predicate]) -> ast.Not:
        return ast.Not(children[0], self._span(meta))

    # ---- statements -----------------------------------------------------------------------
    @v_args(meta=True)
    def use_stmt(self, meta: Meta, children: list[Any]) -> ast.Use:
        return ast.Use(children[0], self._span(meta))

    @v_args(meta=True)
    def drop_stmt(self, meta: Meta, children: list[Any]) -> ast.Drop:
        return ast.Drop(children[0], self._span(meta))

    @v_args(meta=True)
    def set_stmt(self, meta: Meta, children: list[Any]) -> ast.Set:
        return ast.Set(children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def values_stmt(self, meta: Meta, children: list[Any]) -> ast.ValuesBlock:
        return ast.ValuesBlock(self._name(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def needs_stmt(self, meta: Meta, children: list[Any]) -> ast.Needs:
        return ast.Needs(self._name(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def manifest_stmt(self, meta: Meta, children: list[Token]) -> ast.AddManifest:
        return ast.AddManifest(self._name(children[0]), self._string(children[1], "file name"), self._span(meta))

    @v_args(meta=True)
    def enable_stmt(self, meta: Meta, children: list[Any]) -> ast.Enable:
        return ast.Enable(children[0], self._span(meta))

    @v_args(meta=True)
    def rule_stmt(self, meta: Meta, children: list[Any]) -> ast.Rule:
        return ast.Rule(children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def require_stmt(self, meta: Meta, children: list[Any]) -> ast.Require:
        path, op, value = children
        return ast.Require(path, str(op), value, self._span(meta))

    @v_args(meta=True)
    def check_require_stmt(self, meta: Meta, children: list[Any]) -> ast.Require:
        phase, path, op, value = children
        return ast.Require(path, str(op), value, self._span(meta), self._name(phase))

    @v_args(meta=True)
    def check_stmt(self, meta: Meta, children: list[Any]) -> ast.Check:
        return ast.Check(self._name(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def binding(self, meta: Meta, children: list[Token]) -> ast.Binding:
        return ast.Binding(self._name(children[0]), self._name(children[1]), self._span(meta))

    # ---- declarations ---------------------------------------------------------------------
    @v_args(meta=True)
    def import_decl(self, meta: Meta, children: list[Token]) -> ast.Import:
        return ast.Import(self._text(children[0], "file name"), self._span(meta))

    @v_args(meta=True)
    def dim_values(self, meta: Meta, children: list[Any]) -> ast.Clause:
        return ast.Clause("values", children[0], self._span(meta))

    @v_args(meta=True)
    def dim_family(self, meta: Meta, children: list[Any]) -> ast.Clause:
        return ast.Clause("family", ast.Family(self._name(children[0]), children[1], self._span(meta)), self._span(meta))

    @v_args(meta=True)
    def dim_alias(self, meta: Meta, children: list[Any]) -> ast.Clause:
        return ast.Clause("alias", ast.Alias(self._name(children[0]), self._name(children[1]), self._span(meta)), self._span(meta))

    @v_args(meta=True)
    def dim_default(self, meta: Meta, children: list[Any]) -> ast.Clause:
        when = children[1] if len(children) > 1 else None
        return ast.Clause("default", ast.Default(self._name(children[0]), when, self._span(meta)), self._span(meta))

    def _dimension(self, meta: Meta, children: list[Any], *, extends: bool) -> ast.Dimension:
        name, *clauses = children
        parts: dict[str, list[Any]] = {"values": [], "family": [], "alias": [], "default": []}
        for clause in clauses:
            if clause.keyword == "values":
                parts["values"].extend(clause.node)
            else:
                parts[clause.keyword].append(clause.node)
        return ast.Dimension(
            self._name(name),
            tuple(parts["values"]),
            tuple(parts["family"]),
            tuple(parts["alias"]),
            tuple(parts["default"]),
            extends,
            tuple(clauses),
            self._span(meta),
        )

    @v_args(meta=True)
    def dimension_decl(self, meta: Meta, children: list[Any]) -> ast.Dimension:
        return self._dimension(meta, children, extends=False)

    @v_args(meta=True)
    def extend_decl(self, meta: Meta, children: list[Any]) -> ast.Dimension:
        return self._dimension(meta, children, extends=True)

    @v_args(meta=True)
    def comp_chart(self, meta: Meta, children: list[Token]) -> ast.Clause:
        name, repository, version = children
        chart = ast.Chart(
            self._name(name), self._string(repository, "chart repository"), self._string(version, "chart version"), self._span(meta)
        )
        return ast.Clause("chart", chart, self._span(meta))

    @v_args(meta=True)
    def comp_kind(self, meta: Meta, children: list[Token]) -> ast.Clause:
        return ast.Clause("kind", self._name(children[0]), self._span(meta))

    @v_args(meta=True)
    def comp_namespace(self, meta: Meta, children: list[Token]) -> ast.Clause:
        return ast.Clause("namespace", self._name(children[0]), self._span(meta))

    @v_args(meta=True)
    def comp_needs(self, meta: Meta, children: list[Any]) -> ast.Clause:
        return ast.Clause("needs", children[0], self._span(meta))

    @v_args(meta=True)
    def comp_manifest(self, meta: Meta, children: list[Token]) -> ast.Clause:
        return ast.Clause("manifest", self._string(children[0], "file name"), self._span(meta))

    @v_args(meta=True)
    def comp_schema(self, meta: Meta, children: list[Token]) -> ast.Clause:
        return ast.Clause("schema", self._string(children[0], "file name"), self._span(meta))

    @v_args(meta=True)
    def comp_values(self, meta: Meta, children: list[Any]) -> ast.Clause:
        return ast.Clause("values", children[0], self._span(meta))

    @v_args(meta=True)
    def component_decl(self, meta: Meta, children: list[Any]) -> ast.Component:
        name, *clauses = children
        single: dict[str, Any] = {}
        first_span: dict[str, Span] = {}
        needs: list[ast.Name] = []
        manifests: list[ast.Literal] = []
        for clause in clauses:
            key, item, span = clause.keyword, clause.node, clause.span
            if key == "needs":
                needs.extend(item)
            elif key == "manifest":
                manifests.append(item)
            elif key in single:
                self.problems.add(
                    "E0108",
                    f"`{key}` is given twice in component `{name}`",
                    span,
                    labels=(diag.Label(first_span[key], "first given here"),),
                    help=f"keep one `{key}` statement",
                )
            else:
                single[key], first_span[key] = item, span
        return ast.Component(
            self._name(name),
            single.get("chart"),
            single.get("kind"),
            single.get("namespace"),
            tuple(needs),
            tuple(manifests),
            single.get("schema"),
            single.get("values"),
            tuple(clauses),
            self._span(meta),
        )

    @v_args(meta=True)
    def feature_decl(self, meta: Meta, children: list[Any]) -> ast.Feature:
        name, *body = children
        return ast.Feature(self._name(name), tuple(body), self._span(meta))

    @v_args(meta=True)
    def layer_decl(self, meta: Meta, children: list[Any]) -> ast.Layer:
        name, kind, *rest = children
        when = None
        if rest and isinstance(rest[0], ast.PREDICATE_TYPES):
            when = rest.pop(0)
        return ast.Layer(self._name(name), self._name(kind), when, tuple(rest), self._span(meta))

    @v_args(meta=True)
    def recipe_decl(self, meta: Meta, children: list[Any]) -> ast.Recipe:
        name, *statements = children
        bindings = tuple(s for s in statements if isinstance(s, ast.Binding))
        body = tuple(s for s in statements if not isinstance(s, ast.Binding))
        return ast.Recipe(self._name(name), bindings, body, tuple(statements), self._span(meta))

    def start(self, items: list[ast.Declaration]) -> list[ast.Declaration]:
        return items
