"""Source text -> AST.

Lark is imported only when a file actually has to be parsed: parsed modules are cached on disk by
content (see `aicrc.cache`), so a warm compile never pays Lark's import; and the parser is loaded
from prebuilt tables (`tables.py`), so no compile pays for building it from the grammar twice.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from aicrc import cache
from aicrc import diagnostics as diag
from aicrc.compiler.syntax import ast, preparsed, tables
from aicrc.resources import grammar_file
from aicrc.source import SourceFile, Span
from aicrc.vocabulary import LAYER_KINDS

if TYPE_CHECKING:
    from lark import Lark

# Files beyond this size are refused before parsing: recipes and libraries are a few kilobytes,
# and Lark's pure-Python LALR would take tens of seconds on a 10 MB file.
MAX_SOURCE_BYTES = 2 * 1024 * 1024

_lock = threading.Lock()
_recent: dict[str, ast.Module] = {}
_parser: Lark | None = None


def check_size(display: str, size: int) -> None:
    """Refuse inputs too large to be recipes before spending seconds parsing them."""
    if size > MAX_SOURCE_BYTES:
        raise diag.error(
            "E0105",
            f"{display} is {size / 1e6:.1f} MB; aicrc reads files up to {MAX_SOURCE_BYTES / 1e6:.1f} MB",
            Span(display, 1, 1, 1, 1),
            help="recipes, libraries and overlays are small; is this the file you meant?",
        )


def parse(source: SourceFile, *, store: bool = True) -> ast.Module:
    """Parse one file, using the AST the wheel ships for this exact text (`preparsed`), else the
    on-disk cache when this exact text was parsed before. Texts that change with every keystroke
    (an editor's buffers) are not stored (`store=False`)."""
    check_size(source.display, len(source.text.encode("utf-8")))
    entry = cache.key("parse", source.display, source.text)  # the key covers the grammar and the AST's code too
    with _lock:
        module = _recent.get(entry)
    if module is None:
        module = preparsed.lookup(source)  # the wheel's standard library and recipes
    if module is None:
        cached = cache.load("ast", entry)
        if isinstance(cached, ast.Module):
            module = cached
        else:
            module = _parse_uncached(source)
            if store:
                cache.store("ast", entry, module)
    # The last few files parsed stay in memory too: an editor analyses the same buffer several
    # ways in a row, and a program compiles the same recipe file again and again.
    with _lock:  # a server compiles in threads
        _recent[entry] = _recent.pop(entry, module)
        while len(_recent) > 8:
            del _recent[next(iter(_recent))]
    return module


def _parse_uncached(source: SourceFile) -> ast.Module:
    from lark.exceptions import UnexpectedInput

    from aicrc.compiler.syntax import nesting
    from aicrc.compiler.syntax.transform import ToAst

    sources = {source.display: source}
    with _lock:
        parser = _get_parser()
        try:
            tree = parser.parse(source.text)
        except UnexpectedInput as failure:
            raise _syntax_error(failure, source, parser) from None
    too_deep = nesting.problems(tree, source.display)
    if too_deep:
        raise diag.AicrcError(too_deep, sources)
    transformer = ToAst(source.display)
    items = transformer.transform(tree)
    transformer.problems.raise_if_any(sources)
    return ast.Module(source.display, tuple(items), _comments(source))


# Strings are matched too, so that a `#` inside a string is not taken for a comment.
_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')


def _comments(source: SourceFile) -> tuple[ast.Comment, ...]:
    comments = []
    line, line_start = 1, 0
    for match in _COMMENT_OR_STRING.finditer(source.text):
        if not match.group().startswith("#"):
            continue
        line += source.text.count("\n", line_start, match.start())
        line_start = source.text.rfind("\n", 0, match.start()) + 1
        col = match.start() - line_start + 1
        comments.append(ast.Comment(match.group(), Span(source.display, line, col, line, col + len(match.group()))))
        line_start = match.start()
    return tuple(comments)


def _get_parser() -> Lark:
    """The parser, from the tables the wheel ships, else from the cache, else built from the
    grammar (and then cached): see `tables`."""
    global _parser
    if _parser is None:
        grammar = grammar_file().read_text(encoding="utf-8")
        _parser = tables.load_shipped(grammar) or _cached_or_built(grammar)
    return _parser


def _cached_or_built(grammar: str) -> Lark:
    import lark

    entry = cache.key("lark-tables", lark.__version__)  # the key covers the grammar (aicrc's code)
    stored = cache.load_bytes("grammar", entry)
    parser = tables.load(stored, grammar) if stored is not None else None
    if parser is None:
        parser = tables.build(grammar)
        cache.store_bytes("grammar", entry, tables.dump(parser, grammar))
    return parser


# ---- syntax errors in words --------------------------------------------------------------------

# Named terminals as a reader would say them; keywords and punctuation are shown as written.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted string ("...")',
    "SIGNED_INT": "a number",
    "SIGNED_FLOAT": "a number",
    "EQUALITY": "`==` or `!=`",
    "COMPARE": "a comparison (`==`, `!=`, `>=`, `>`, `<=`, `<`)",
    "$END": "the end of the file",
}

# Typical mistakes, recognised by the parser state they fail in (Lark's `match_examples`).
_EXAMPLES: dict[str, list[str]] = {
    'text values are quoted strings: write "..."': [
        "recipe r { set a.b = word }",
        "component c { values { a = word } }",
        "layer l: base { require K8s.server.version >= word }",
        "component c { values { a = [word] } }",
    ],
    "a value is missing after `=`": [
        "recipe r { set a.b = }",
        "component c { values { a = } }",
    ],
    "an assignment needs `=` between the path and the value": [
        "recipe r { set a.b 1 }",
        "recipe r { set a.b.c 1 }",
        "recipe r { set a.b.c.d 1 }",
        "component c { values { a 1 } }",
        "component c { values { a.b 1 } }",
        "component c { values { a.b.c 1 } }",
    ],
    "a layer names its kind after a colon: `layer NAME: KIND { ... }`": [
        "layer l { }",
        "layer l when a == b { }",
    ],
    "predicates use `==`, `!=` or `in [...]`": [
        "layer l: base when a >= b { }",
        "layer l: base when a = b { }",
        "layer l: base when a { }",
    ],
    "a recipe binds a dimension with `=`: `service = eks`": [
        "recipe r { service eks }",
    ],
    "list items are separated by commas": [
        "component c { values { a = [1 2] } }",
        "component c { needs a b }",
    ],
}


def _expected_words(expected: set[str], parser: Lark) -> str:
    words: list[str] = []
    for name in sorted(expected):
        if name in _TERMINAL_WORDS:
            word = _TERMINAL_WORDS[name]
        else:
            try:
                word = f"`{parser.get_terminal(name).pattern.value}`"
            except KeyError:
                word = name
        if word not in words:
            words.append(word)
    if not words:
        return "nothing more"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _syntax_error(failure: Any, source: SourceFile, parser: Lark) -> diag.AicrcError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    sources = {source.display: source}
    line, col = max(failure.line, 1), max(failure.column, 1)
    if isinstance(failure, UnexpectedCharacters):
        char = failure.char
        span = Span(source.display, line, col, line, col + 1)
        if char == '"':
            return diag.AicrcError(
                [diag.Diagnostic("E0102", "unterminated string", span, help='close the string with `"` on the same line')],
                sources,
            )
        expected = _expected_words(set(failure.allowed or ()), parser)
        # a control character or a stray byte-order mark would not show between backquotes
        message = f"unexpected character `{char}`" if char.isprintable() else f"unexpected character U+{ord(char):04X}"
        return diag.AicrcError([diag.Diagnostic("E0101", message, span, notes=(f"expected {expected}",))], sources)

    if isinstance(failure, UnexpectedEOF) or (isinstance(failure, UnexpectedToken) and failure.token.type == "$END"):
        last_line = source.text.count("\n") + 1
        last_col = len(source.text.rsplit("\n", 1)[-1]) + 1
        span = Span(source.display, last_line, last_col, last_line, last_col)
        expected = _expected_words(_acceptable(failure), parser)
        return diag.AicrcError(
            [
                diag.Diagnostic(
                    "E0101",
                    "unexpected end of file",
                    span,
                    notes=(f"expected {expected}",),
                    help="a `}` may be missing; every `{` needs its `}`" if "RBRACE" in failure.expected else None,
                )
            ],
            sources,
        )

    assert isinstance(failure, UnexpectedToken)
    token = failure.token
    end_col = token.end_column if token.end_line == token.line else col + 1
    span = Span(source.display, line, col, line, end_col)
    message = f"unexpected `{token}`"
    expected = _expected_words(_acceptable(failure), parser)
    hint = _match_example(failure, parser)
    forgotten = _KIND_FORGOTTEN.search(source.text, 0, token.start_pos) if token.start_pos is not None else None
    if forgotten is not None:  # `layer x: when ...`: `when` was read as the kind
        kind = forgotten.group("when")
        start = forgotten.start("when")
        at_line, line_start = source.text.count("\n", 0, start) + 1, source.text.rfind("\n", 0, start) + 1
        where = Span(source.display, at_line, start - line_start + 1, at_line, start - line_start + 1 + len(kind))
        return diag.AicrcError(
            [
                diag.Diagnostic(
                    "E0101",
                    f"layer `{forgotten.group('name')}` names no kind",
                    where,
                    notes=(f"layer kinds, lowest precedence first: {', '.join(LAYER_KINDS)}",),
                    help=f"write the kind after the colon: `layer {forgotten.group('name')}: environment when ...`",
                )
            ],
            sources,
        )
    return diag.AicrcError([diag.Diagnostic("E0101", message, span, notes=(f"expected {expected}",), help=hint)], sources)


# `layer NAME: when` right before the failing token: the kind was forgotten and `when` taken for it.
_KIND_FORGOTTEN = re.compile(r"\blayer\s+(?P<name>[A-Za-z_][\w-]*)\s*:\s*(?P<when>when)\s+\Z")


def _acceptable(failure: Any) -> set[str]:
    """What could have come next: Lark's `accepts` (checked against the whole parse stack) when it
    has it, since `expected` also lists tokens that LALR merged in from other contexts."""
    return set(getattr(failure, "accepts", None) or failure.expected)


def _match_example(failure: Any, parser: Lark) -> str | None:
    """The hint whose examples fail in the same parser state as this error.

    Lark's `match_examples` compares whole parse stacks, so an example only matches an error at the
    same nesting depth after the same number of statements; comparing the state on top of the
    stack (with the token's type) recognises the mistake wherever it is made."""
    global _hints
    if _hints is None:
        from lark.exceptions import UnexpectedToken

        _hints = {}
        for label, examples in _EXAMPLES.items():
            for example in examples:
                try:
                    parser.parse(example)
                except UnexpectedToken as mistake:
                    _hints.setdefault((mistake.state.position, mistake.token.type), label)
                    _hints.setdefault((mistake.state.position, None), label)
    state = getattr(failure, "state", None)
    if state is None:
        return None
    token = getattr(failure, "token", None)
    return _hints.get((state.position, getattr(token, "type", None))) or _hints.get((state.position, None))


_hints: dict[tuple[int, str | None], str] | None = None
