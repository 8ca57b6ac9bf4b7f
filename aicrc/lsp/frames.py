"""Stdin as pygls reads it, with every frame checked first.

pygls reads a frame's header lines and then exactly Content-Length bytes, so one wrong length
swallows the next message or waits forever for bytes that never come. `Frames` stands in for stdin
(pygls only calls readline() and read(n)) and hands pygls one well-formed frame at a time; a frame
that is not is passed on as bytes that do not parse, so the client gets a Parse error (-32700), and
reading resumes at the next `Content-Length:` header.
"""

from __future__ import annotations

import logging
import os
import re

_log = logging.getLogger(__name__)


_FIELD = b"content-length:"
_FIELD_AT = re.compile(_FIELD, re.IGNORECASE)
_OTHER_LINE = rb"[A-Za-z0-9!#$%&'*+.^_`|~-]+:[^\r\n]*\r\n"  # a header line such as Content-Type
_HEADER = re.compile(rb"content-length:[ \t]*(\d{1,12})[ \t]*\r\n(?:%s)*\r\n" % _OTHER_LINE, re.IGNORECASE)
# A Content-Length line inside a body ends a body that was declared too long. Raw CR and LF cannot
# occur in a JSON string, and `Content-Length` cannot occur outside one, so it is never JSON.
_LENGTH_LINE = re.compile(rb"content-length:[ \t]*\d+[ \t]*\r\n", re.IGNORECASE)
_LENGTH_LINE_START = re.compile(rb"content-length:[ \t]*\d*[ \t]*\r?", re.IGNORECASE)
_MAX_HEADER = 8192


class Frames:
    """The client's byte stream, re-framed: `readline` and `read(n)` (all pygls calls) give one
    well-formed frame at a time. A frame whose header has no usable Content-Length, or whose body
    runs into the next frame's header, is passed on as its raw bytes, which begin with
    `Content-Length` and so are never JSON: pygls's parse fails and the client gets -32700.
    Reading then resumes at the next `Content-Length:`; bytes before it are skipped."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = bytearray()  # read from the client, not yet framed
        self._frame = b""  # the current frame as pygls will read it
        self._rejected = False  # the bytes after a rejected header are its body: skip them quietly

    def readline(self) -> bytes:
        self._fill()
        end = self._frame.find(b"\n") + 1 or len(self._frame)
        line, self._frame = self._frame[:end], self._frame[end:]
        return line

    def read(self, size: int) -> bytes:
        self._fill()
        chunk, self._frame = self._frame[:size], self._frame[size:]
        return chunk

    def _fill(self) -> None:
        if not self._frame:
            body = self._next_body()
            if body is not None:  # None: the input ended, and b"" tells pygls so
                self._frame = b"Content-Length: %d\r\n\r\n" % len(body) + body

    def _more(self) -> bool:
        try:
            chunk = os.read(self._fd, 65536)
        except OSError as error:  # an input that cannot be read has ended, as far as serving goes
            _log.error("cannot read the input (%s); stopping", error)
            return False
        self._buffer += chunk
        return bool(chunk)

    def _next_body(self) -> bytes | None:
        while (field := _FIELD_AT.search(self._buffer)) is None:
            del self._buffer[: max(len(self._buffer) - len(_FIELD), 0)]  # keep what may begin a header
            if not self._more():
                return None
        self._skip(field.start())

        while (header := _HEADER.match(self._buffer)) is None:
            end = self._buffer.find(b"\r\n\r\n", 0, _MAX_HEADER)
            if end >= 0 or len(self._buffer) > _MAX_HEADER:
                following = _FIELD_AT.search(self._buffer, 1, end if end >= 0 else _MAX_HEADER)
                upto = following.start() if following else end + 4 if end >= 0 else len(_FIELD)
                return self._reject(upto, f"no usable Content-Length in {bytes(self._buffer[: min(upto, 80)])!r}")
            if not self._more():
                self._ended()
                return None
        length, body_start = int(header.group(1)), header.end()
        body_end = body_start + length
        if length == 0:
            return self._reject(body_start, "Content-Length 0")

        scanned = body_start
        while True:  # the body; a header line inside it means the length was too long
            inner = _LENGTH_LINE.search(self._buffer, max(scanned - 64, body_start), body_end + 64)
            if inner is not None and inner.start() < body_end:
                return self._reject(inner.start(), f"Content-Length {length} runs into the next frame")
            if len(self._buffer) >= body_end:
                break
            scanned = len(self._buffer)
            if not self._more():
                self._ended()
                return None
        cut = _partial_header(self._buffer, body_start, body_end)
        if cut is not None:
            return self._reject(cut, f"Content-Length {length} runs into the next frame")
        body = bytes(self._buffer[body_start:body_end])
        del self._buffer[:body_end]
        return body

    def _skip(self, count: int) -> None:
        skipped = bytes(self._buffer[:count])
        del self._buffer[:count]
        if skipped and not self._rejected and not re.fullmatch(rb"(?:%s)*" % _OTHER_LINE, skipped):
            _log.warning("skipped %d bytes that are not a frame: %r", count, skipped[:80])
        self._rejected = False

    def _reject(self, count: int, reason: str) -> bytes:
        _log.warning("bad frame: %s; reading on from the next Content-Length header", reason)
        raw = bytes(self._buffer[:count])
        del self._buffer[:count]
        self._rejected = True
        return raw

    def _ended(self) -> None:
        _log.error("the input ended inside a frame (%d bytes unread); stopping", len(self._buffer))


def _partial_header(buffer: bytearray, start: int, end: int) -> int | None:
    """Where the body `buffer[start:end]` ends in the beginning of a Content-Length line that
    more bytes would complete (`...}Content-Le`): a length too long by a few bytes. No JSON text
    ends like that: none ends in a letter but the `e` of true and false or the `l` of null."""
    for position in range(max(end - 40, start), end):
        tail = bytes(buffer[position:end])
        if _FIELD.startswith(tail.lower()) or _LENGTH_LINE_START.fullmatch(tail):
            return position
    return None
