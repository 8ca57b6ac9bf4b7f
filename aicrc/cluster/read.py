"""Reading a Snapshot file (YAML or JSON), whatever it holds, into a validated `Snapshot`, or into
located errors: never a traceback, and never minutes spent on a hostile file.

- The size is checked before anything is read: a snapshot the reference stores fits a ConfigMap
  (1 MiB), so files over MAX_SNAPSHOT_BYTES are refused.
- The YAML is read as parser events (libyaml's, where PyYAML has it) and built into plain data
  here, refusing aliases (the reference never writes one, and an alias bomb is made of them),
  nesting deeper than MAX_DEPTH (a snapshot nests five levels), explicit tags and keys given twice.
- Plain scalars are read as YAML 1.2 reads them, as the reference's yaml.v3 does: `yes` and `on`
  stay strings, `true` is a boolean, `5` an integer, `1.5` a float, `2026-11-26T21:51:52Z` a string.
- kind and apiVersion are checked first, so a file of another kind, or of a newer format version,
  says so rather than listing every field that does not fit.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError

from aicrc import diagnostics as diag
from aicrc.cluster.snapshot import API_GROUP, API_VERSION, KIND, Snapshot
from aicrc.compiler.load.files import decode_utf8
from aicrc.source import SourceFile, Span

MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 16

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SURROGATE = re.compile("[\ud800-\udfff]")  # half a UTF-16 pair, which an escape can write and no file can hold
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1
_LONGEST_NUMBER = 400  # characters: longer is no number a reading holds, and int() of it costs time
_OTHER_KINDS = {
    "RecipeResult": "a recipe as the reference writes it: validate it with `aicrc validate RECIPE --snapshot FILE`",
    "CompiledRecipe": "a compiled recipe: give the recipe to `aicrc validate`, and the snapshot to --snapshot",
    "RecipeCriteria": "criteria: give them with --criteria",
}
# Kubernetes API versions, which the reference's follow: v1alpha1 < v1alpha2 < v1beta1 < v1 < v2alpha1.
_API_VERSION = re.compile(r"v([0-9]+)(?:(alpha|beta)([0-9]+))?")
_STAGES = {"alpha": 0, "beta": 1, None: 2}


# libyaml's parser where PyYAML has it (20 times faster than PyYAML's own); only its events are used.
# It refuses the `\\u` escapes of UTF-16 surrogates, with which JSON writes characters past U+FFFF,
# so a text holding one is read by PyYAML's own parser, and each pair made one character here.
_FAST_PARSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NOTHING = object()  # no document in the stream


class _Frame:
    """A mapping or list being read; a mapping alternates between awaiting a key and its value."""

    def __init__(self, container: dict[str, Any] | list[Any], path: tuple[Any, ...]) -> None:
        self.container = container
        self.path = path
        self.pending: str | None = None  # the key whose value comes next

    @property
    def wants_key(self) -> bool:
        return isinstance(self.container, dict) and self.pending is None

    def key(self, key: str, mark: yaml.Mark, reader: _Reader) -> None:
        assert isinstance(self.container, dict)
        if key in self.container:
            raise reader.fail("E0901", f"key `{key}` is given twice in one mapping", mark)
        reader.keys[(*self.path, key)] = mark
        self.pending = key

    def child_path(self, mark: yaml.Mark, reader: _Reader) -> tuple[Any, ...]:
        """The path of the value about to be added (a key must be a scalar: the reference's are text)."""
        if isinstance(self.container, list):
            return (*self.path, len(self.container))
        if self.pending is None:
            raise reader.fail("E0904", "a key is a string, not a mapping or a list", mark)
        return (*self.path, self.pending)

    def add(self, value: Any) -> None:
        if isinstance(self.container, list):
            self.container.append(value)
        else:
            assert self.pending is not None
            self.container[self.pending] = value
            self.pending = None


def read_snapshot(path: Path, display: str | None = None) -> Snapshot:
    """Read and validate the snapshot file at `path`; errors are diagnostics located in it."""
    shown = display or path.as_posix()
    return _from_bytes(_read_bytes(path, shown), shown)


def read_snapshot_text(text: str, display: str) -> Snapshot:
    """Read and validate a snapshot held as text elsewhere (a ConfigMap's value), under the same
    limits as a file; `display` names it in errors (`cm://gpu-operator/aicr-snapshot`)."""
    # Half a UTF-16 surrogate pair, which a JSON escape can write, becomes bytes that UTF-8 refuses.
    return _from_bytes(text.encode("utf-8", "surrogatepass"), display)


def parse_snapshot(text: str, display: str) -> Snapshot:
    source = SourceFile(display, text)
    reader = _Reader(source)
    if _is_json(text):
        text = text.replace("\t", " ")  # JSON's whitespace, which YAML refuses; JSON strings hold none raw
    elif text and not text.endswith("\n"):
        lines = text.split("\n")
        raise reader.fail(
            "E0901",
            "the file ends in the middle of a line: was it cut short?",
            yaml.Mark(display, len(text), len(lines) - 1, len(lines[-1]), text, len(text)),
            help="aicr and aicrc end every snapshot with a newline; if you edited this one by hand, end it with one",
        )
    data = reader.document(text)
    try:
        return Snapshot.model_validate(data)
    except ValidationError as failure:
        raise reader.invalid(failure) from None


def _from_bytes(data: bytes, display: str) -> Snapshot:
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise _too_large(display, len(data))
    return parse_snapshot(decode_utf8(data, display, help="snapshots are YAML or JSON, in UTF-8"), display)


def _read_bytes(path: Path, display: str) -> bytes:
    try:
        with path.open("rb") as handle:
            size = _size(handle.fileno())
            if size > MAX_SNAPSHOT_BYTES:
                raise _too_large(display, size)
            data = handle.read(MAX_SNAPSHOT_BYTES + 1)  # a file that grows while read is cut here
    except FileNotFoundError:
        raise diag.error("E0104", f"no such file: {display}", help="take one with `aicrc snapshot -o FILE`") from None
    except IsADirectoryError:
        raise diag.error("E0104", f"{display} is a directory, not a snapshot file") from None
    except OSError as failure:
        raise diag.error("E0104", f"cannot read {display}: {failure.strerror}") from None
    return data


def _size(fd: int) -> int:
    status = os.fstat(fd)
    # A pipe or a device has no size to check; reading stops one byte past the limit instead.
    return status.st_size if stat.S_ISREG(status.st_mode) else 0


def _too_large(display: str, size: int) -> diag.AicrcError:
    return diag.error(
        "E0105",
        f"{display} is {size / 1e6:.1f} MB; aicrc reads snapshots up to {MAX_SNAPSHOT_BYTES / 1e6:.1f} MB",
        Span(display, 1, 1, 1, 1),
        help="a node's snapshot is tens of kilobytes (the reference stores one in a 1 MiB ConfigMap); is this the file you meant?",
    )


class _Reader:
    """One document: its nodes turned into plain data, remembering where each value was written."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.values: dict[tuple[Any, ...], yaml.Mark] = {}  # path -> where the value there starts
        self.keys: dict[tuple[Any, ...], yaml.Mark] = {}  # path -> where its key starts

    def document(self, text: str) -> dict[str, Any]:
        try:
            parser = yaml.SafeLoader if _SURROGATE_ESCAPE.search(text) else _FAST_PARSER
            data = self.build(yaml.parse(text, Loader=parser))
        except yaml.MarkedYAMLError as failure:
            mark = failure.problem_mark or failure.context_mark
            said = ", ".join(part for part in (failure.context, failure.problem) if part)
            raise self.fail("E0901", f"not valid YAML or JSON: {said}", mark) from None
        except yaml.YAMLError as failure:  # errors without a place: a stream that is not text
            raise self.fail("E0901", f"not valid YAML or JSON: {failure}", None) from None
        if data is _NOTHING:
            raise self.fail("E0902", "the file is empty, not a Snapshot", None, help="take one with `aicrc snapshot -o FILE`")
        if not isinstance(data, dict):
            raise self.fail("E0902", f"not a Snapshot: a snapshot is a mapping with `kind: {KIND}`", self.values[()])
        self.check_header(data)
        return data

    def check_header(self, data: dict[str, Any]) -> None:
        kind, api = data.get("kind"), data.get("apiVersion")
        where = self.values.get(("kind",))
        if kind != KIND:
            hint = _OTHER_KINDS.get(kind) if isinstance(kind, str) else None
            message = f"not a Snapshot: kind is {kind!r}" if "kind" in data else f"not a Snapshot: no `kind: {KIND}`"
            raise self.fail("E0902", message, where, help=hint or f"a snapshot starts `kind: {KIND}`")
        where = self.values.get(("apiVersion",), where)
        if api == API_VERSION:
            return
        if isinstance(api, str) and _newer(api):
            raise self.fail(
                "E0903",
                f"the snapshot is in format {api}, newer than this aicrc reads ({API_VERSION})",
                where,
                help="upgrade aicrc, or take the snapshot with a release of aicr that writes " + API_VERSION,
            )
        message = f"unknown snapshot format {api!r}" if "apiVersion" in data else "the snapshot has no `apiVersion`"
        raise self.fail("E0902", message, where, help=f"snapshots are apiVersion: {API_VERSION}")

    def build(self, events: Iterator[yaml.Event]) -> Any:
        """The document's plain data, from parser events, without recursion: each container open
        is a frame on `stack`, so depth is counted (and refused) before it costs anything."""
        stack: list[_Frame] = []
        document: Any = _NOTHING
        documents = 0
        for event in events:
            mark = cast(yaml.Mark, event.start_mark)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self.fail("E0901", "not valid YAML or JSON: a second document (`---`): a snapshot is one", mark)
            if isinstance(event, yaml.AliasEvent):
                raise self.fail("E0901", f"an alias (*{event.anchor}): snapshots hold no aliases; write the value out", mark)
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise self.fail("E0901", f"nested more than {MAX_DEPTH} levels; a snapshot nests 5", mark)
                mapping = isinstance(event, yaml.MappingStartEvent)
                self.check_tag(event.tag, _MAP if mapping else _SEQ, mark)
                path = stack[-1].child_path(mark, self) if stack else ()
                self.values[path] = mark
                stack.append(_Frame({} if mapping else [], path))
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                frame = stack.pop()
                if stack:
                    stack[-1].add(frame.container)
                else:
                    document = frame.container
            elif isinstance(event, yaml.ScalarEvent):
                text = self.text(event.value, mark)
                if stack and stack[-1].wants_key:
                    stack[-1].key(text, mark, self)
                    continue
                self.check_tag(event.tag, _STR, mark)
                value = _plain(text) if event.tag is None and event.implicit[0] else text  # plain, or quoted
                path = stack[-1].child_path(mark, self) if stack else ()
                self.values[path] = mark
                if stack:
                    stack[-1].add(value)
                else:
                    document = value
        return document

    def text(self, value: str, mark: yaml.Mark) -> str:
        """A scalar's text; a pair of `\\u` escapes (as JSON writes characters past U+FFFF) made
        one character, half a pair refused."""
        if not _SURROGATE.search(value):
            return value
        try:
            return value.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            half = "a string holds half a UTF-16 surrogate pair (an escape like \\ud800), not text"
            raise self.fail("E0904", half, mark) from None

    def check_tag(self, tag: str | None, expected: str, mark: yaml.Mark) -> None:
        if tag is not None and tag not in ("!", expected):
            raise self.fail("E0904", f"explicit tag {tag}: snapshots use none", mark)

    def invalid(self, failure: ValidationError) -> diag.AicrcError:
        """Each field that does not fit, at the place it is written (or where it is missing)."""
        diagnostics = []
        seen: set[tuple[Any, ...]] = set()
        for error in failure.errors():
            loc = tuple(error["loc"])
            where, rest = self.nearest(loc)
            if where in seen:  # a reading that is no member of the union fails once per member
                continue
            seen.add(where)
            mark = self.keys.get(where) if error["type"] == "extra_forbidden" else self.values.get(where)
            diagnostics.append(self.diagnostic(_message(error, where, rest), mark))
        return diag.AicrcError(diagnostics, {self.source.display: self.source})

    def nearest(self, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """The longest prefix of a pydantic location that names a written value, and the rest."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.values or loc[:end] in self.keys:
                return loc[:end], loc[end:]
        return (), loc

    def diagnostic(self, message: str, mark: yaml.Mark | None, help: str | None = None, code: str = "E0904") -> diag.Diagnostic:
        span = None
        if mark is not None:
            span = Span(self.source.display, mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2)
        return diag.Diagnostic(code, message, span, help=help)

    def fail(self, code: str, message: str, mark: yaml.Mark | None, help: str | None = None) -> diag.AicrcError:
        return diag.AicrcError([self.diagnostic(message, mark, help, code)], {self.source.display: self.source})


def _is_json(text: str) -> bool:
    """Whether the text is JSON (which the reference writes with --format json), strictly read."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _plain(text: str) -> Any:
    """A plain scalar as YAML 1.2's core schema reads it (yaml.v3 reads the reference's output so).
    A number no Go reading can hold (past 64 bits, infinite, not a number) stays the text written."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if len(text) <= _LONGEST_NUMBER and _INT.fullmatch(text):
        number = int(text, 0) if text[:2] in ("0o", "0x") else int(text)
        return number if _INT64_MIN <= number <= _UINT64_MAX else text
    if len(text) <= _LONGEST_NUMBER and _FLOAT.fullmatch(text):
        real = float(text)
        return real if math.isfinite(real) else text
    return text


def _newer(api: str) -> bool:
    group, _, version = api.partition("/")
    ours, theirs = _API_VERSION.fullmatch(API_VERSION.partition("/")[2]), _API_VERSION.fullmatch(version)
    if group != API_GROUP or theirs is None or ours is None:
        return False
    return _rank(theirs) > _rank(ours)


def _rank(match: re.Match[str]) -> tuple[int, int, int]:
    major, stage, number = match.groups()
    return int(major), _STAGES[stage], int(number or 0)


def _message(error: Any, where: tuple[Any, ...], rest: tuple[Any, ...]) -> str:
    field = ".".join(str(part) for part in where) or "the document"
    kind = error["type"]
    if kind == "missing":
        return f"`{'.'.join(str(part) for part in rest[:1])}` is missing in {field}"
    if kind == "extra_forbidden":
        return f"unknown field `{where[-1]}` at {'.'.join(str(part) for part in where[:-1]) or 'the top'}"
    if where[-2:-1] == ("data",):
        return f"reading {field}: a reading is a string, number or boolean"
    if kind in ("dict_type", "model_type"):
        return f"{field}: expected a mapping"
    if kind == "list_type":
        return f"{field}: expected a list"
    if kind == "string_type":
        return f"{field}: expected a string"
    return f"{field}: {error['msg']}"
