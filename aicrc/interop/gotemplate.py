"""The subset of Go's text/template that the reference's manifests use, rendered as its bundler
renders them (Go's text/template with Helm's names: `.Values`, `.Release`, `.Chart`, and its
functions `toYaml`, `nindent`, `toString`, `default`).

    {{ pipeline }}  {{ $name := pipeline }}  {{ if pipeline }} ... {{ else }} ... {{ end }}
    {{- and -}} trim the white space before and after an action
    pipeline: command | command ...; command: a term, or a function and its arguments
    term: .Field.Chain, $var.Chain, "string", integer, true, false, ( pipeline )
    functions: and, ne, index (maps), toYaml, nindent, toString, default

Anything else (range, with, define, comments, other functions) is an error naming it, with its
line and column, rather than a guess. Semantics follow Go's: an absent map key is "no value"
(false in `if`; nil when passed to a function), a field of null is an error, `and` stops at its
first false argument, and `default` replaces only nil and "" (the reference's own `default`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aicrc.interop.goformat import MISSING, go_print, go_yaml


class GoTemplateError(Exception):
    """Where the template stops; `unsupported` when Go would accept it but aicrc does not render it."""

    def __init__(self, message: str, line: int, column: int, unsupported: bool = False) -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.unsupported = message, line, column, unsupported


@dataclass(frozen=True)
class _Where:
    line: int
    column: int

    def error(self, message: str, unsupported: bool = False) -> GoTemplateError:
        return GoTemplateError(message, self.line, self.column, unsupported)


# ---- syntax --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:  # .A.B, or $x.A.B (variable None: from the data)
    variable: str | None
    names: tuple[str, ...]
    where: _Where


@dataclass(frozen=True)
class Constant:
    value: Any


@dataclass(frozen=True)
class Function:
    name: str
    where: _Where


@dataclass(frozen=True)
class Command:
    terms: tuple[Any, ...]  # Field | Constant | Function | Pipeline
    where: _Where


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Command, ...]


@dataclass(frozen=True)
class Print:
    pipeline: Pipeline


@dataclass(frozen=True)
class Declare:
    name: str
    pipeline: Pipeline


@dataclass(frozen=True)
class If:
    condition: Pipeline
    then: tuple[Any, ...]
    otherwise: tuple[Any, ...]


_ACTION = re.compile(r"\{\{(-[ \t\r\n])?(.*?)([ \t\r\n]-)?\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"\s+|(?P<string>\"(?:[^\"\\\n]|\\.)*\")|(?P<declare>:=)|(?P<punct>[()|])"
    r"|(?P<field>(?:\$[A-Za-z_][A-Za-z0-9_]*)?(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\$[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>-?[0-9]+)(?![0-9A-Za-z_.])|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
)
FUNCTIONS = ("and", "ne", "index", "toYaml", "nindent", "toString", "default")
_UNSUPPORTED_HINT = "aicrc renders the part of Go's template language that the reference's manifests use"


@dataclass
class _Open:
    """An `if` whose `end` has not come yet."""

    where: _Where
    condition: Pipeline
    then: list[Any] = field(default_factory=list)
    otherwise: list[Any] | None = None  # once its `else` has come

    @property
    def body(self) -> list[Any]:
        return self.then if self.otherwise is None else self.otherwise


def parse(text: str) -> tuple[Any, ...]:
    """The template's nodes; GoTemplateError for anything outside the subset."""
    nodes: list[Any] = []
    stack: list[_Open] = []
    position = 0
    trim_next = False
    for action in _ACTION.finditer(text):
        current = stack[-1].body if stack else nodes
        literal = text[position : action.start()]
        if trim_next:
            literal = literal.lstrip(" \t\r\n")
        if action.group(1):
            literal = literal.rstrip(" \t\r\n")
        if literal:
            current.append(literal)
        position, trim_next = action.end(), bool(action.group(3))
        body = action.group(2)
        where = _where(text, action.start(2) + len(body) - len(body.lstrip()))  # at the action's first word
        keyword = body.split(None, 1)[0] if body.strip() else ""
        if keyword == "if":
            stack.append(_Open(where, _pipeline(_tokens(body, action.start(2), text)[1:], where)))
        elif keyword in ("else", "end"):
            if body.strip() != keyword:
                raise where.error(f"`{body.strip()}` is not supported; {_UNSUPPORTED_HINT}: `{keyword}` stands alone", unsupported=True)
            if not stack:
                raise where.error(f"`{keyword}` without `if`")
            if keyword == "else":
                if stack[-1].otherwise is not None:
                    raise where.error("a second `else` in one `if`")
                stack[-1].otherwise = []
                continue
            done = stack.pop()
            (stack[-1].body if stack else nodes).append(If(done.condition, tuple(done.then), tuple(done.otherwise or ())))
        elif keyword in ("range", "with", "define", "template", "block", "break", "continue") or body.lstrip().startswith("/*"):
            raise where.error(f"`{keyword or body.strip()[:2]}` is not supported; {_UNSUPPORTED_HINT}", unsupported=True)
        else:
            current.append(_statement(_tokens(body, action.start(2), text), where))
    if stack:
        raise stack[-1].where.error("`if` without `end`")
    rest = text[position:]
    if "{{" in rest:
        raise _where(text, position + rest.index("{{")).error("`{{` without `}}`")
    rest = rest.lstrip(" \t\r\n") if trim_next else rest
    if rest:
        nodes.append(rest)
    return tuple(nodes)


def _where(text: str, offset: int) -> _Where:
    line = text.count("\n", 0, offset) + 1
    return _Where(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _tokens(body: str, offset: int, text: str) -> list[tuple[str, str, _Where]]:
    tokens, position = [], 0
    while position < len(body):
        match = _TOKEN.match(body, position)
        if match is None:
            raise _where(text, offset + position).error(
                f"cannot read `{body[position:].split()[0]}` here; {_UNSUPPORTED_HINT}", unsupported=True
            )
        if match.lastgroup is not None:
            tokens.append((match.lastgroup, match.group(), _where(text, offset + position)))
        position = match.end()
    return tokens


def _adjacent(before: _Where, after: _Where) -> bool:
    return before.line == after.line and after.column == before.column + 1


def _statement(tokens: list[tuple[str, str, _Where]], where: _Where) -> Any:
    if len(tokens) > 1 and tokens[1][0] == "declare":
        kind, name, at = tokens[0]
        if kind != "field" or not re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", name):
            raise at.error("only a variable (`$name`) can be declared")
        return Declare(name, _pipeline(tokens[2:], where))
    return Print(_pipeline(tokens, where))


def _pipeline(tokens: list[tuple[str, str, _Where]], where: _Where) -> Pipeline:
    """Commands separated by `|`, each a list of terms; parentheses nest pipelines."""
    pipeline, rest = _read_pipeline(tokens, 0, where)
    if rest != len(tokens):
        raise tokens[rest][2].error(f"unexpected `{tokens[rest][1]}`")
    return pipeline


def _read_pipeline(tokens: list[tuple[str, str, _Where]], index: int, where: _Where) -> tuple[Pipeline, int]:
    commands: list[Command] = []
    terms: list[Any] = []
    start = tokens[index][2] if index < len(tokens) else where
    while index < len(tokens):
        kind, value, at = tokens[index]
        if value == ")":
            break
        index += 1
        if value == "|":
            if not terms:
                raise at.error("missing command before `|`")
            commands.append(Command(tuple(terms), start))
            terms, start = [], tokens[index][2] if index < len(tokens) else at
        elif value == "(":
            inner, index = _read_pipeline(tokens, index, at)
            if index >= len(tokens) or tokens[index][1] != ")":
                raise at.error("unclosed `(`")
            index += 1
            follows = tokens[index] if index < len(tokens) else None
            if follows is not None and follows[0] == "field" and follows[1].startswith(".") and _adjacent(tokens[index - 1][2], follows[2]):
                raise follows[2].error(
                    f"a field of a parenthesized value (`){follows[1]}`) is not supported; {_UNSUPPORTED_HINT}", unsupported=True
                )
            terms.append(inner)
        elif kind == "string":
            try:
                terms.append(Constant(json.loads(value)))
            except json.JSONDecodeError:
                raise at.error(f"cannot read the string {value}") from None
        elif kind == "number":
            terms.append(Constant(int(value)))
        elif kind == "field":
            variable, _, chain = value.partition(".") if value.startswith("$") else (None, "", value[1:])
            terms.append(Field(variable, tuple(chain.split(".")) if chain else (), at))
        elif value in ("true", "false"):
            terms.append(Constant(value == "true"))
        elif kind == "word" and value in FUNCTIONS:
            if terms:
                raise at.error(f"`{value}` must start a command")
            terms.append(Function(value, at))
        elif kind == "word":
            raise at.error(f"function `{value}` is not supported; {_UNSUPPORTED_HINT} ({', '.join(FUNCTIONS)})", unsupported=True)
        else:
            raise at.error(f"unexpected `{value}`")
    if not terms:
        raise (tokens[index][2] if index < len(tokens) else where).error("missing value")
    commands.append(Command(tuple(terms), start))
    return Pipeline(tuple(commands)), index


# ---- execution -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Struct:
    """A Go struct in the template's data (`.Release`, `.Chart`): an unknown field is an error."""

    type_name: str
    fields: Mapping[str, Any]


def render(nodes: tuple[Any, ...], data: Struct) -> str:
    out: list[str] = []
    _run(nodes, data, [{}], out)
    return "".join(out)


def _run(nodes: tuple[Any, ...], data: Struct, scopes: list[dict[str, Any]], out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Print):
            out.append(go_print(_pipe(node.pipeline, data, scopes)))
        elif isinstance(node, Declare):
            scopes[-1][node.name] = _pipe(node.pipeline, data, scopes)
        else:
            branch = node.then if truth(_pipe(node.condition, data, scopes)) else node.otherwise
            _run(branch, data, [*scopes, {}], out)  # variables declared inside end with the block


def _pipe(pipeline: Pipeline, data: Struct, scopes: list[dict[str, Any]]) -> Any:
    value: Any = _NONE
    for command in pipeline.commands:
        value = _command(command, data, scopes, value)
        if value is None:  # Go unwraps a nil interface{} result to "no value" (it prints `<no value>`)
            value = MISSING
    return value


_NONE = object()  # no piped value


def _command(command: Command, data: Struct, scopes: list[dict[str, Any]], piped: Any) -> Any:
    head, *rest = command.terms
    if not isinstance(head, Function):
        if rest or piped is not _NONE:
            raise command.where.error("only a function can take arguments")
        return _term(head, data, scopes)
    if head.name == "and":  # evaluates its arguments only until one is false
        value: Any = True
        for term in [*rest, *([] if piped is _NONE else [_Piped(piped)])]:
            value = term.value if isinstance(term, _Piped) else _term(term, data, scopes)
            if not truth(value):
                return value
        return value
    args = [_term(term, data, scopes) for term in rest] + ([] if piped is _NONE else [piped])
    call, arity = _FUNCTIONS[head.name]
    if len(args) != arity and not (arity < 0 and len(args) >= -arity):
        wanted = f"at least {-arity}" if arity < 0 else str(arity)
        raise head.where.error(f"`{head.name}` takes {wanted} argument(s), given {len(args)}")
    try:
        return call(*args)
    except _CallError as failure:
        raise head.where.error(f"{head.name}: {failure}", failure.unsupported) from None


@dataclass(frozen=True)
class _Piped:
    value: Any


def _term(term: Any, data: Struct, scopes: list[dict[str, Any]]) -> Any:
    if isinstance(term, Constant):
        return term.value
    if isinstance(term, Pipeline):
        return _pipe(term, data, scopes)
    if isinstance(term, Function):
        raise term.where.error(f"`{term.name}` is a function: call it first in a command or in parentheses")
    value: Any = data
    if term.variable is not None:
        found = next((scope[term.variable] for scope in reversed(scopes) if term.variable in scope), _NONE)
        if found is _NONE:
            raise term.where.error(f"undefined variable `{term.variable}`")
        value = found
    for name in term.names:
        value = _field(value, name, term.where)
    return value


def _field(value: Any, name: str, where: _Where) -> Any:
    if value is MISSING:
        return MISSING
    if isinstance(value, Struct):
        if name not in value.fields:
            raise where.error(f"can't evaluate field {name} in type {value.type_name}")
        return value.fields[name]
    if isinstance(value, dict):
        return value.get(name, MISSING)
    if value is None:
        raise where.error(f"nil pointer evaluating interface {{}}.{name}")
    raise where.error(f"can't evaluate field {name} in type {_go_type(value)}")


def truth(value: Any) -> bool:
    if value is MISSING or value is None:
        return False
    if isinstance(value, (bool, int, float, str, dict, list)):
        return bool(value)
    return True


class _CallError(Exception):
    def __init__(self, message: str, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


def _go_type(value: Any) -> str:
    names = {bool: "bool", int: "int", float: "float64", str: "string", dict: "map[string]interface {}", list: "[]interface {}"}
    return "<nil>" if value is None or value is MISSING else names.get(type(value), type(value).__name__)


def _arg(value: Any) -> Any:
    return None if value is MISSING else value  # Go passes an absent value to a function as nil


def _ne(a: Any, b: Any) -> bool:
    a, b = _arg(a), _arg(b)
    if a is None or b is None:
        return not (a is None and b is None)
    kinds = {type(a), type(b)}
    if len(kinds) != 1 or not kinds <= {bool, int, float, str}:
        raise _CallError(f"incompatible types for comparison: {_go_type(a)} and {_go_type(b)}")
    return bool(a != b)


def _index(item: Any, *keys: Any) -> Any:
    item = _arg(item)
    for key in keys:
        if item is None:
            raise _CallError("index of untyped nil")
        if not isinstance(item, dict):
            raise _CallError(f"can't index item of type {_go_type(item)}")
        if not isinstance(key, str):
            raise _CallError(f"value has type {_go_type(key)}; should be string")
        item = item.get(key)  # an absent key gives the map's zero value, nil
    return item


def _nindent(width: Any, text: Any) -> str:
    if not isinstance(width, int) or isinstance(width, bool) or not isinstance(text, str):
        raise _CallError(f"wrong type for value; expected (int, string), got ({_go_type(width)}, {_go_type(text)})")
    pad = " " * width
    return "\n" + "\n".join(pad + line if line else line for line in text.split("\n"))


def _to_yaml(value: Any) -> str:
    try:
        return go_yaml(_arg(value))
    except ValueError as unsupported:
        raise _CallError(f"not supported: {unsupported}", unsupported=True) from None


def _default(fallback: Any, value: Any) -> Any:
    value = _arg(value)
    return fallback if value is None or (value == "" and isinstance(value, str)) else value


_FUNCTIONS: dict[str, tuple[Callable[..., Any], int]] = {  # name -> (function, arity; -n: at least n)
    "ne": (_ne, 2),
    "index": (_index, -1),
    "toYaml": (_to_yaml, 1),
    "nindent": (_nindent, 2),
    "toString": (lambda value: go_print(_arg(value)), 1),
    "default": (_default, 2),
}
