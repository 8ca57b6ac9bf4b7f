"""Diagnostics: one error type with a stable code, rendered rustc-style with the source line and a caret.

Codes are grouped by stage so that a code tells a reader where to look:
E00xx internal errors, E01xx reading and parsing, E02xx loading (imports, definitions), E03xx names and criteria,
E04xx evaluation (values, layers), E05xx solving (dependencies), E06xx command-line input,
E07xx importing the reference system's files, E08xx bundles (writing, reading back, verifying),
E09xx snapshots and validation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache

from aicrc.records import Record
from aicrc.source import SourceFile, Span

# Stable codes and their one-line meaning (`aicrc` prints the code; docs and tests cite it).
CODES: dict[str, str] = {
    "E0001": "internal error: a bug in aicrc (the language server reports it rather than stopping)",
    "E0101": "syntax error",
    "E0102": "unterminated string",
    "E0103": "file is not UTF-8",
    "E0104": "file not found or unreadable",
    "E0105": "input too large",
    "E0106": "nesting too deep",
    "E0107": "empty recipe file",
    "E0108": "statement repeated where only one is allowed",
    "E0109": "control character in a string (write an escape; none at all in file names and charts)",
    "E0110": "invalid escape in a string (unknown, or half a surrogate pair)",
    "E0111": "number out of range (integers are 64-bit, floats finite)",
    "E0201": "import not found",
    "E0202": "import cycle",
    "E0203": "duplicate definition",
    "E0204": "no recipe in file",
    "E0205": "manifest file is not valid YAML",
    "E0301": "unknown component",
    "E0302": "unknown feature",
    "E0303": "unknown dimension",
    "E0304": "unknown dimension value",
    "E0305": "unknown layer kind",
    "E0306": "invalid component declaration",
    "E0307": "unknown check phase",
    "E0401": "equal-precedence layers disagree",
    "E0402": "set through a non-map value",
    "E0403": "set for a component not in the recipe",
    "E0404": "invalid criteria",
    "E0501": "missing dependency",
    "E0502": "dependency cycle",
    "E0503": "dropped component is still needed",
    "E0601": "invalid command-line value",
    "E0602": "no such component or value path",
    "E0701": "invalid file of the reference system (AICR)",
    "E0702": "overlay base chain loops or breaks",
    "E0703": "file missing, unreadable, or outside the data folder",
    "E0704": "reference construct aicrc cannot express",
    "E0801": "bundle output folder exists and is not empty (--force replaces it)",
    "E0802": "cannot write the bundle",
    "E0803": "not a compiled recipe (or one edited out of shape: order, waves, needs)",
    "E0804": "a name in the recipe cannot be used in a bundle (Helm release, folder, namespace, chart)",
    "E0805": "not a bundle: no such folder, or no checksums.txt in it",
    "E0806": "checksums.txt line malformed, repeated, or naming a path outside the bundle",
    "E0807": "bundle file does not match checksums.txt",
    "E0808": "bundle file listed in checksums.txt is missing",
    "E0809": "bundle file not listed in checksums.txt",
    "E0810": "a GitOps bundle (argocd, flux) needs the Git repository it will be pushed to (--repo URL)",
    "E0811": "--repo or --revision is not one the deployer's controller can use",
    "E0850": "signing key unreadable, malformed, of an unsupported type, or its file exists already",
    "E0851": "bundle provenance (provenance.intoto.jsonl) missing or not a DSSE envelope of an in-toto statement",
    "E0852": "bundle provenance signature does not verify with the given key",
    "E0853": "bundle provenance does not cover the bundle: a file missing from its subjects, or a digest that differs",
    "E0854": "not an OCI reference (oci://HOST[:PORT]/REPOSITORY:TAG)",
    "E0855": "OCI registry unreachable, too slow, or refusing a request",
    "E0856": "OCI artifact is not an aicrc bundle (artifact type, layer, digest or archive)",
    "E0901": "snapshot is not valid YAML or JSON (syntax, a key given twice, an alias, nesting too deep)",
    "E0902": "not a Snapshot document (empty, another kind, or an unknown apiVersion)",
    "E0903": "snapshot format newer than this aicrc reads",
    "E0904": "snapshot field of the wrong shape (unknown field, a reading that is not a scalar, an explicit tag)",
    "E0910": "Kubernetes API call failed (kubeconfig unreadable, server unreachable or slow, credentials or RBAC refused, object missing)",
    "E0915": "not a ConfigMap URI (cm://NAMESPACE/NAME, each a Kubernetes name)",
    "E0916": "the ConfigMap holds no snapshot (no snapshot.yaml or snapshot.json key, or a table)",
    "E0917": "snapshot too large for a ConfigMap (1 MiB)",
    "E0918": "the snapshot agent Job failed or could not start (a failed pod, an image that cannot be pulled, a Job left running)",
    "E0919": "the snapshot agent Job did not finish within --timeout (its pod not scheduled, or still running)",
    "E0920": "NCCL results hold no all_reduce_perf table (not nccl-tests output, or the log of the wrong pod)",
    "E0921": "no NCCL Job for the recipe (no accelerator aicrc knows the nodes of, or GKE's TCPXO fabric)",
    "E0930": "drift: the snapshot records no Helm releases (no K8s.helm subtype, or its collector was skipped)",
    "E0950": "a recipe sent to the server imports a file by path (absolute, relative, or climbing with `..`): it imports by name only",
    "W0001": "a criterion matched no specific layer: the generic configuration applies for it",
    "W0002": "a compiled value at a path the component's values schema does not have",
    "W0003": "a compiled value the component's values schema does not allow",
    "W0004": "a component is defined but no layer, feature or recipe uses it",
}


class Label(Record):
    """A secondary location with a short message (`first defined here`)."""

    span: Span
    message: str


class Diagnostic(Record):
    code: str
    message: str
    span: Span | None = None
    labels: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None
    severity: str = "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.code)
        return (self.span.file, self.span.line, self.span.col, self.code)

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "location": _span_dict(self.span),
            "labels": [{"message": label.message, "location": _span_dict(label.span)} for label in self.labels],
            "notes": list(self.notes),
            "help": self.help,
        }


def _span_dict(span: Span | None) -> dict[str, object] | None:
    if span is None:
        return None
    return {
        "file": span.file,
        "line": span.line,
        "column": span.col,
        "endLine": span.end_line,
        "endColumn": span.end_col,
    }


class AicrcError(Exception):
    """Raised by any stage for problems in the user's input; carries one or more diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: Mapping[str, SourceFile] | None = None) -> None:
        self.diagnostics = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        # The texts the spans point into, so the error renders with its source lines anywhere.
        self.sources: dict[str, SourceFile] = dict(sources or {})
        super().__init__("; ".join(f"{d.code}: {d.message}" for d in self.diagnostics))

    def render(self, *, color: bool = False) -> str:
        return render_all(self.diagnostics, self.sources, color=color)


def error(code: str, message: str, span: Span | None = None, **extra: object) -> AicrcError:
    return AicrcError([Diagnostic(code, message, span, **extra)])  # type: ignore[arg-type]


class Collector:
    """Gathers independent errors so one run reports them all, then raises them together."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def add(self, code: str, message: str, span: Span | None = None, **extra: object) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, **extra))  # type: ignore[arg-type]

    def extend(self, failure: AicrcError) -> None:
        self.diagnostics.extend(failure.diagnostics)

    def raise_if_any(self, sources: Mapping[str, SourceFile] | None = None) -> None:
        if self.diagnostics:
            raise AicrcError(self.diagnostics, sources)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A `help` line naming the closest candidate, if one is close enough to be a likely typo."""
    return _closest(word, tuple(sorted(set(candidates))))


@lru_cache(maxsize=1024)
def _closest(word: str, candidates: tuple[str, ...]) -> str | None:
    # Remembered: a file that repeats one mistake thousands of times asks the same question each
    # time, and each answer costs a sequence match per candidate.
    import difflib

    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None


def one_of(candidates: Iterable[str]) -> str:
    return ", ".join(sorted(set(candidates)))


# ---- rendering -----------------------------------------------------------------------------------

_RED, _BLUE, _BOLD, _RESET = "\x1b[31m", "\x1b[34m", "\x1b[1m", "\x1b[0m"

# A run with more errors than this prints the first ones (in source order) and counts the rest:
# past a screenful, more of them tells nothing new, and a generated file can hold thousands.
MAX_RENDERED = 50


def render(diagnostic: Diagnostic, sources: Mapping[str, SourceFile], *, color: bool = False) -> str:
    """Render one diagnostic the way rustc does: header, location, source line, caret, notes."""

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    header = paint(f"{diagnostic.severity}[{diagnostic.code}]", _BOLD + (_RED if diagnostic.severity == "error" else _BLUE))
    lines = [f"{header}: {paint(diagnostic.message, _BOLD) if color else diagnostic.message}"]
    if diagnostic.span is not None:
        lines += _snippet(diagnostic.span, None, sources, paint, primary=True)
    for label in diagnostic.labels:
        lines += _snippet(label.span, label.message, sources, paint, primary=False)
    lines += [f"  = note: {note}" for note in diagnostic.notes]
    if diagnostic.help:
        lines.append(f"  = help: {diagnostic.help}")
    return "\n".join(lines)


def _snippet(
    span: Span, message: str | None, sources: Mapping[str, SourceFile], paint: Callable[[str, str], str], *, primary: bool
) -> list[str]:
    gutter = " " * len(str(span.line))
    out = [f"{gutter}--> {span}"]
    source = sources.get(span.file)
    text = _line(source.text, span.line) if source else ""
    if not text:
        if message:
            out.append(f"{gutter} = {message}")
        return out
    # Columns count characters, as the parser does. A long line is first cut to a window around the
    # caret (a generated file can hold a line of megabytes, and each of its errors would print it
    # all), then its tabs and control characters are made visible, and the caret goes under them.
    first = span.col - 1
    last = max(first, span.end_col - 1 if span.end_line == span.line else len(text))
    low = max(0, min(first - _BEFORE_CARET, len(text) - _MAX_SHOWN))
    window = text[low : low + _MAX_SHOWN]
    prefix = "..." if low else ""
    start = len(prefix) + len(_visible(window[: first - low]))
    end = len(prefix) + len(_visible(window[: last - low]))
    shown = prefix + _visible(window) + ("..." if low + _MAX_SHOWN < len(text) else "")
    marker = ("^" if primary else "-") * max(1, end - start)
    caret_line = " " * start + paint(marker, _RED if primary else _BLUE)
    if message:
        caret_line += " " + message
    out += [f"{gutter} |", f"{span.line} | {shown}", f"{gutter} | {caret_line}"]
    return out


# How much of a long source line is shown: this many characters, from this many before the caret.
_MAX_SHOWN, _BEFORE_CARET = 120, 40


def _line(text: str, number: int) -> str:
    """Line `number` (1-based) as the parser counts lines: split at `\n` only (`str.splitlines`
    also splits at form feeds and other separators), without a CRLF file's `\r`."""
    lines = _lines(text)
    return lines[number - 1].removesuffix("\r") if 0 < number <= len(lines) else ""


@lru_cache(maxsize=4)
def _lines(text: str) -> list[str]:
    # One split per text, not per diagnostic: a file with thousands of errors rendered one at a
    # time (`aicrc check` does) stays linear. A few texts are kept: a run reports into few files.
    return text.split("\n")


# Tabs expand to 4 columns; control characters show as their Unicode control pictures (U+2400...),
# one column each, so the terminal neither acts on them nor loses the caret's place.
_CONTROL_PICTURES = {code: 0x2400 + code for code in range(0x20)} | {0x7F: 0x2421}


def _visible(text: str) -> str:
    return text.expandtabs(4).translate(_CONTROL_PICTURES)


def render_all(diagnostics: Sequence[Diagnostic], sources: Mapping[str, SourceFile], *, color: bool = False) -> str:
    parts = [render(d, sources, color=color) for d in diagnostics[:MAX_RENDERED]]
    hidden = diagnostics[MAX_RENDERED:]
    if hidden:
        kind = "errors" if all(d.severity == "error" for d in hidden) else "diagnostics"
        parts.append(f"... and {len(hidden)} more {kind}")
    errors = sum(1 for d in diagnostics if d.severity == "error")
    if errors > 1:
        parts.append(f"aborting: {errors} errors")
    return "\n\n".join(parts)
