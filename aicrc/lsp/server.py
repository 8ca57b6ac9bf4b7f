"""`aicrc lsp`: the language server over stdio (pygls), a thin layer of LSP types over
`analysis` and `features`. Every handler turns an unexpected exception into a log message and an
empty answer: an editor's server must outlive any half-typed file.

It must also outlive a misbehaving client, and never leave one waiting: `frames.Frames` stands in
for stdin and checks the framing first. A body that is not JSON is answered with a Parse error (-32700), and a request whose params
do not fit its method with Invalid params (-32602), rather than only logged."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, cast

from cattrs import transform_error
from cattrs.errors import ClassValidationError
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest, JsonRpcParseError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path

from aicrc import diagnostics as diag
from aicrc.lsp import features
from aicrc.lsp.analysis import Analysis, Workspace, internal_error
from aicrc.lsp.frames import Frames
from aicrc.source import Span
from aicrc.version import __version__

if TYPE_CHECKING:
    from pygls.server import ServerErrors

Handler = TypeVar("Handler", bound=Callable[..., Any])

_log = logging.getLogger(__name__)


# ---- messages: every request is answered, even one that cannot be read -----------------------------


class _Unreadable:
    """A message whose params do not fit its method, in place of the message."""

    def __init__(self, message: dict[str, Any], error: JsonRpcException) -> None:
        self.id = message.get("id")
        self.method = message.get("method")
        self.error = error


class AicrProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if isinstance(error, JsonRpcInvalidParams) and isinstance(error.__cause__, ClassValidationError):
                error = JsonRpcInvalidParams(message="Invalid params: " + "; ".join(transform_error(error.__cause__)))
            return _Unreadable(data, error)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Unreadable):
            if message.method is not None and _is_id(message.id):
                self.answer_error(message.id, message.error)
            else:  # a notification (or a response) cannot be answered
                _log.warning("ignored %s: %s", message.method or "a response", message.error.message)
        elif getattr(message, "jsonrpc", None) != self.VERSION:  # valid JSON, but not a JSON-RPC 2.0 message
            msg_id = message.get("id") if isinstance(message, dict) else getattr(message, "id", None)
            self.answer_error(
                msg_id if _is_id(msg_id) else None, JsonRpcInvalidRequest(message="Invalid request: not a JSON-RPC 2.0 message")
            )
        else:
            super().handle_message(message)

    def answer_error(self, msg_id: int | str | None, error: JsonRpcException) -> None:
        """An error response; its id is null when the message's could not be read (JSON-RPC 2.0 §5)."""
        self._send_data({"jsonrpc": self.VERSION, "id": msg_id, "error": {"code": error.code, "message": error.message}})


def _is_id(value: object) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


class AicrServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("aicrc", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full, protocol_cls=AicrProtocol)
        self._workspace: Workspace | None = None
        self.analyses: dict[str, Analysis] = {}

    @property
    def aicr(self) -> Workspace:
        if self._workspace is None:
            root = self.workspace.root_path
            self._workspace = Workspace(Path(root) if root else None)
        return self._workspace

    def analyse(self, uri: str) -> Analysis:
        document = self.workspace.get_text_document(uri)
        path = Path(to_fs_path(uri) or uri)
        try:
            analysis = self.aicr.analyse(path, document.source)
        except Exception as failure:  # a bug in aicrc that this text triggers: shown, not only logged
            self.log_failure()
            analysis = Analysis(path, path.as_posix(), document.source)
            analysis.diagnostics.append(internal_error(failure, analysis))
        self.analyses[uri] = analysis
        try:
            diagnostics = [_diagnostic(d, analysis) for d in analysis.diagnostics]
        except Exception as failure:  # converting them is aicrc's code too; the top line always converts
            self.log_failure()
            diagnostics = [_diagnostic(internal_error(failure, analysis).replace(span=None), analysis)]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, version=document.version, diagnostics=diagnostics))
        return analysis

    def current(self, uri: str) -> Analysis:
        return self.analyses.get(uri) or self.analyse(uri)

    def log_failure(self) -> None:
        """The exception being handled, with its traceback, in the client's log for this server."""
        self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=traceback.format_exc()))

    def report_server_error(self, error: Exception, source: ServerErrors) -> None:
        # pygls reports here a frame body that `json.loads` could not read; the client may be
        # waiting for an answer, so it gets one, with the id null as it could not be read.
        if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError, RecursionError)):
            cast(AicrProtocol, self.protocol).answer_error(None, JsonRpcParseError(message=f"Parse error: {error}"))
        else:
            super().report_server_error(error, source)


server = AicrServer()


def _safe(handler: Handler) -> Handler:
    @functools.wraps(handler)
    def wrapper(ls: AicrServer, params: Any) -> Any:
        try:
            return handler(ls, params)
        except Exception:  # the server must survive anything a buffer holds
            ls.log_failure()
            return None

    return wrapper  # type: ignore[return-value]


# ---- document lifecycle and diagnostics ----------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@_safe
def did_open(ls: AicrServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.analyse(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@_safe
def did_change(ls: AicrServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.analyse(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
@_safe
def did_save(ls: AicrServer, params: types.DidSaveTextDocumentParams) -> None:
    analysis = ls.analyses.get(params.text_document.uri)
    if analysis is not None and analysis.library_file:
        ls.aicr.reload()  # the library on disk changed: every document sees the new one
        for uri in list(ls.analyses):
            ls.analyse(uri)
    else:
        ls.analyse(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@_safe
def did_close(ls: AicrServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.analyses.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


def _diagnostic(finding: diag.Diagnostic, analysis: Analysis) -> types.Diagnostic:
    severity = types.DiagnosticSeverity.Error if finding.severity == "error" else types.DiagnosticSeverity.Warning
    message = finding.message + "".join(f"\nnote: {note}" for note in finding.notes) + (f"\nhelp: {finding.help}" if finding.help else "")
    related = [
        types.DiagnosticRelatedInformation(location=location, message=label.message)
        for label in finding.labels
        if (location := _location(label.span, analysis)) is not None
    ]
    span = finding.span or Span(analysis.display, 1, 1, 1, 1)
    return types.Diagnostic(
        range=_range(span, analysis.text),
        message=message,
        severity=severity,
        code=finding.code,
        source="aicrc",
        related_information=related or None,
    )


# ---- requests ------------------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_HOVER)
@_safe
def hover(ls: AicrServer, params: types.HoverParams) -> types.Hover | None:
    analysis = ls.current(params.text_document.uri)
    line, col = _position(params.position, analysis.text)
    found = features.hover(ls.aicr, analysis, line, col)
    if found is None:
        return None
    text, span = found
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text), range=_range(span, analysis.text))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@_safe
def definition(ls: AicrServer, params: types.DefinitionParams) -> types.Location | None:
    analysis = ls.current(params.text_document.uri)
    line, col = _position(params.position, analysis.text)
    found = features.definition(analysis, line, col)
    if found is None:
        return None
    path, span = found
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return types.Location(uri=from_fs_path(str(path)) or str(path), range=_range(span, text))


_COMPLETION_KINDS = {
    "keyword": types.CompletionItemKind.Keyword,
    "component": types.CompletionItemKind.Module,
    "feature": types.CompletionItemKind.Function,
    "value": types.CompletionItemKind.EnumMember,
    "dimension": types.CompletionItemKind.Variable,
    "key": types.CompletionItemKind.Field,
}


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", " ", "["]))
@_safe
def completion(ls: AicrServer, params: types.CompletionParams) -> types.CompletionList:
    uri = params.text_document.uri
    analysis = ls.current(uri)
    line, col = _position(params.position, analysis.text)
    items = [
        types.CompletionItem(label=c.label, kind=_COMPLETION_KINDS[c.kind], detail=c.detail or None)
        for c in features.complete(ls.aicr, analysis, line, col)
    ]
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
@_safe
def formatting(ls: AicrServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
    from aicrc.source import SourceFile
    from aicrc.tools.fmt import format_source

    analysis = ls.current(params.text_document.uri)
    try:
        formatted = format_source(SourceFile(analysis.display, analysis.text))
    except diag.AicrcError:
        return None  # the diagnostics already say why; a file that does not parse is left alone
    if formatted == analysis.text:
        return []
    lines = analysis.text.split("\n")
    end = types.Position(line=len(lines) - 1, character=_utf16(lines[-1]))
    return [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end), new_text=formatted)]


_SYMBOL_KINDS = {
    "import": types.SymbolKind.File,
    "dimension": types.SymbolKind.Enum,
    "value": types.SymbolKind.EnumMember,
    "component": types.SymbolKind.Package,
    "feature": types.SymbolKind.Function,
    "layer": types.SymbolKind.Namespace,
    "recipe": types.SymbolKind.Object,
}


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@_safe
def document_symbols(ls: AicrServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    analysis = ls.current(params.text_document.uri)
    return [_symbol(s, analysis.text) for s in features.symbols(analysis)]


def _symbol(symbol: features.Symbol, text: str) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=symbol.name,
        detail=symbol.detail,
        kind=_SYMBOL_KINDS[symbol.kind],
        range=_range(symbol.span, text),
        selection_range=_range(symbol.selection, text),
        children=[_symbol(child, text) for child in symbol.children] or None,
    )


# ---- positions: LSP counts lines from 0 and columns in UTF-16 code units -----------------------------


def _utf16(text: str) -> int:
    # A lone surrogate (which an editor can send) is one UTF-16 unit, like any other.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _position(position: types.Position, text: str) -> tuple[int, int]:
    """LSP position -> 1-based line and column in code points."""
    lines = text.split("\n")
    line = lines[position.line] if position.line < len(lines) else ""
    units, col = 0, 0
    while col < len(line) and units < position.character:
        units += _utf16(line[col])
        col += 1
    return position.line + 1, col + 1


def _range(span: Span, text: str) -> types.Range:
    lines = text.split("\n")

    def point(line: int, col: int) -> types.Position:
        content = lines[line - 1] if 0 < line <= len(lines) else ""
        return types.Position(line=max(line - 1, 0), character=_utf16(content[: max(col - 1, 0)]))

    return types.Range(start=point(span.line, span.col), end=point(span.end_line, span.end_col))


def _location(span: Span, analysis: Analysis) -> types.Location | None:
    if span.file == analysis.display:
        return types.Location(uri=from_fs_path(str(analysis.path)) or "", range=_range(span, analysis.text))
    program = analysis.program
    source = program.sources.get(span.file) if program is not None else None
    if source is None or source.path is None:
        return None
    return types.Location(uri=from_fs_path(str(source.path)) or "", range=_range(span, source.text))


class _OneLine(logging.Formatter):
    """One line per event on stderr (which editors show as the server's log): pygls logs
    tracebacks, some inside the message itself. `AICRC_DEBUG=1` keeps them."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().split("\n", 1)[0]
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            first_line = str(error).partition("\n")[0]
            message += f" ({type(error).__name__}: {first_line})"
        return f"aicrc lsp: {record.levelname.lower()}: {message}"


def main() -> None:
    handler = logging.StreamHandler(sys.stderr)
    if not os.environ.get("AICRC_DEBUG"):
        handler.setFormatter(_OneLine())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    # pygls reads its stdin only by readline() and read(n), which is all Frames offers.
    server.start_io(stdin=cast(BinaryIO, Frames(sys.stdin.fileno())))
