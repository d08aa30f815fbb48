"""The one streaming `multipart/form-data` reader: photo uploads and selfies both use it.

python-multipart's parser does the byte-level work; this module makes it strict, because it
accepts things a form never sends and that once reached code not written for them:

- a body that ends inside a part (no closing boundary) is refused, never taken as a whole file;
- the boundary must follow RFC 2046 (1-70 characters of its alphabet);
- every part needs `Content-Disposition: form-data; name="..."`; part headers are bounded in
  count and size and may not hold control characters, nor may the decoded names;
- any parser error (a header without a colon, LF-only line ends, junk after a boundary) is a
  400 `MALFORMED_MULTIPART` in the common error shape, never a 500.

The caller's `PartHandler` sees each part's name, filename and type, then its bytes; a part it
declines is read and dropped, and such parts are bounded too. After each chunk of the body the
optional `after_chunk` coroutine runs, so a handler can do its I/O off the event loop.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from facepass.errors import FacePassError

# RFC 2046 §5.1.1: 1-70 characters, digits, letters and '()+_,-./:=? (space not last).
_BOUNDARY = re.compile(rb"^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # any control character but TAB
MAX_HEADERS_PER_PART = 8
MAX_HEADER_BYTES = 4 * 1024  # of one part's headers together (the parser enforces both)
MAX_DECLINED_BYTES = 64 * 1024  # of all the parts the handler did not want


class MalformedMultipart(FacePassError):
    status_code = 400
    code = "MALFORMED_MULTIPART"


class FormTooLarge(FacePassError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


@dataclass(frozen=True, slots=True)
class PartInfo:
    """What a part's headers say about it."""

    name: str
    filename: str | None  # None: a plain field, not a file
    content_type: str | None


class PartHandler(Protocol):
    """Receives the parts of one body; raising from a callback stops the reading."""

    def on_part(self, part: PartInfo) -> bool:
        """A new part begins; return True to receive its data, False to drop it."""

    def on_data(self, data: bytes) -> None:
        """Bytes of the current (wanted) part, in order."""

    def on_part_end(self) -> None:
        """The current (wanted) part ended with its boundary: it is complete."""


def multipart_boundary(content_type: str | None) -> bytes | None:
    """The boundary of a `multipart/form-data` content type, else None."""
    mime, params = parse_options_header(content_type or "")
    if mime != b"multipart/form-data":
        return None
    return params.get(b"boundary") or None


def _decode_name(raw: bytes, what: str) -> str:
    text = raw.decode("utf-8", "replace")
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise MalformedMultipart(f"A part's {what} holds control characters.")
    return text


class _StrictParts:
    """The parser's callbacks: checks each part's headers, forwards wanted parts' bytes."""

    def __init__(self, handler: PartHandler, max_parts: int) -> None:
        self.handler = handler
        self.max_parts = max_parts
        self.parts = 0
        self._headers: dict[bytes, bytes] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._wanted = False
        self._declined_bytes = 0

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.max_parts:
            raise FormTooLarge(f"A request may hold at most {self.max_parts} parts.")
        self._headers = {}
        self._wanted = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        if _CONTROL.search(self._value):
            raise MalformedMultipart("A part header holds control characters.")
        self._headers[bytes(self._field).lower()] = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            raise MalformedMultipart(
                'Every part needs a header Content-Disposition: form-data; name="...".'
            )
        raw_filename = options.get(b"filename")
        raw_type = self._headers.get(b"content-type")
        part = PartInfo(
            name=_decode_name(options[b"name"], "name"),
            filename=None if raw_filename is None else _decode_name(raw_filename, "filename"),
            content_type=None if raw_type is None else raw_type.decode("latin-1").strip(),
        )
        self._wanted = self.handler.on_part(part)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._wanted:
            self.handler.on_data(data[start:end])
            return
        self._declined_bytes += end - start
        if self._declined_bytes > MAX_DECLINED_BYTES:
            raise FormTooLarge("The form holds too much data in fields this request ignores.")

    def on_part_end(self) -> None:
        if self._wanted:
            self.handler.on_part_end()
        self._wanted = False


async def read_multipart(
    boundary: bytes,
    stream: AsyncIterator[bytes],
    handler: PartHandler,
    *,
    max_parts: int,
    after_chunk: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Parse a whole body into `handler`; returns its part count. Raises a 4xx FacePassError."""
    if not _BOUNDARY.match(boundary):
        raise MalformedMultipart("The multipart boundary must be 1 to 70 plain characters.")
    parts = _StrictParts(handler, max_parts)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": parts.on_part_begin,
            "on_header_field": parts.on_header_field,
            "on_header_value": parts.on_header_value,
            "on_header_end": parts.on_header_end,
            "on_headers_finished": parts.on_headers_finished,
            "on_part_data": parts.on_part_data,
            "on_part_end": parts.on_part_end,
        },
        max_header_count=MAX_HEADERS_PER_PART,
        max_header_size=MAX_HEADER_BYTES,
    )
    try:
        async for chunk in stream:
            parser.write(chunk)
            if after_chunk is not None:
                await after_chunk()
        parser.finalize()
    except FormParserError as exc:  # python-multipart's own errors, all of them
        raise MalformedMultipart(f"The multipart body is malformed: {exc}.") from exc
    if parser.state != MultipartState.END:
        # The body stopped before its closing boundary: its last part may be cut anywhere.
        raise MalformedMultipart("The multipart body ends before its closing boundary.")
    return parts.parts
