"""Reading selfies from a multipart request into memory, and nowhere else.

Starlette's form parser spools any file over 1 MB to a temporary file on disk; a guest's face
must never touch the disk, so the body is parsed here as it streams in, each `selfie` part kept
in a bytes buffer under a size cap, and every other field discarded unread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from facepass.errors import FacePassError, UnprocessableInput

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

SELFIE_FIELD = "selfie"
_FORM_OVERHEAD_BYTES = 64 * 1024  # boundaries, part headers and small fields


class SelfieTooLarge(FacePassError):
    status_code = 413
    code = "SELFIE_TOO_LARGE"


@dataclass(frozen=True, slots=True)
class Selfie:
    """One uploaded selfie, in memory."""

    data: bytes
    content_type: str


class _SelfieCollector:
    """Callbacks of the streaming parser: keep `selfie` parts, bounded, drop the rest."""

    def __init__(self, max_count: int, max_bytes: int) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self.selfies: list[Selfie] = []
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._buffer: bytearray | None = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._buffer = None

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") != SELFIE_FIELD.encode():
            return  # not a selfie: its data is skipped
        if len(self.selfies) >= self.max_count:
            raise UnprocessableInput(
                f"At most {self.max_count} selfies per search.", code="TOO_MANY_SELFIES"
            )
        self._buffer = bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._buffer is None:
            return
        if len(self._buffer) + (end - start) > self.max_bytes:
            raise SelfieTooLarge(f"A selfie may be at most {self.max_bytes // (1024 * 1024)} MB.")
        self._buffer += data[start:end]

    def _part_end(self) -> None:
        if self._buffer is None:
            return
        content_type = self._headers.get(b"content-type", b"application/octet-stream")
        self.selfies.append(Selfie(bytes(self._buffer), content_type.decode("latin-1")))
        self._buffer = None


async def read_selfies(request: Request, *, max_count: int, max_bytes: int) -> list[Selfie]:
    """The request's `selfie` parts (1 to max_count), each at most max_bytes, all in memory."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UnprocessableInput(
            "Send the selfie as multipart/form-data in a field named 'selfie'.",
            code="SELFIE_REQUIRED",
        )
    limit = max_count * max_bytes + _FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise SelfieTooLarge(f"A search may send at most {limit // (1024 * 1024)} MB.")
    collector = _SelfieCollector(max_count, max_bytes)
    parser = MultipartParser(boundary, collector.callbacks(), max_size=limit)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise SelfieTooLarge(f"A search may send at most {limit // (1024 * 1024)} MB.")
        parser.write(chunk)
    parser.finalize()
    if not collector.selfies:
        raise UnprocessableInput(
            "No selfie received: send an image in the field 'selfie'.", code="SELFIE_REQUIRED"
        )
    return collector.selfies
