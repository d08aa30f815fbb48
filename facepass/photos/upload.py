"""Receive a multipart upload as a stream: each file spooled to a temp file while it is hashed.

The request is never held in memory: each chunk is written to the current file's temp file and
fed to SHA-256 as it arrives (off the event loop). A file over the per-file limit stops being
written at once (the rest of it is read and discarded) and is reported FILE_TOO_LARGE; files
beyond the per-request limit are discarded the same way (TOO_MANY_FILES).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from facepass.errors import FacePassError, UnprocessableInput

FILES_FIELD = "files"
HEAD_BYTES = 64  # enough for every magic number we sniff


@dataclass
class ReceivedFile:
    """One file of the request, spooled to `path` (None when refused while receiving)."""

    filename: str
    declared_type: str | None
    path: Path | None = None
    size: int = 0
    sha256: str = ""
    head: bytes = b""
    error: str | None = None  # EMPTY_FILE, FILE_TOO_LARGE, TOO_MANY_FILES
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256, repr=False)
    _out: IO[bytes] | None = field(default=None, repr=False)

    def discard(self) -> None:
        """Delete the temp file (safe to call twice)."""
        if self._out is not None:
            self._out.close()
            self._out = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


class UploadTooLarge(FacePassError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


@dataclass
class _Part:
    field_name: str = ""
    filename: str | None = None
    content_type: str | None = None
    file: ReceivedFile | None = None  # None: a non-file field or a part we skip
    headers: dict[bytes, bytes] = field(default_factory=dict)


class MultipartReceiver:
    """Parses `multipart/form-data` from a byte stream into ReceivedFiles under `spool_dir`."""

    def __init__(self, spool_dir: Path, *, max_file_bytes: int, max_files: int) -> None:
        self.spool_dir = spool_dir
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.files: list[ReceivedFile] = []
        self._part = _Part()
        self._header_name = b""
        self._header_value = b""
        self._pending: list[tuple[ReceivedFile, bytes]] = []
        self._non_file_bytes = 0

    # -- parser callbacks (synchronous, no I/O) --
    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._part.headers[self._header_name.lower()] = self._header_value
        self._header_name = b""
        self._header_value = b""

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._part.headers.get(b"content-disposition", b""))
        self._part.field_name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options or self._part.field_name != FILES_FIELD:
            return
        filename = options[b"filename"].decode("utf-8", "replace")
        declared = self._part.headers.get(b"content-type")
        received = ReceivedFile(
            filename=os.path.basename(filename.replace("\\", "/"))[:255] or "unnamed",
            declared_type=declared.decode("latin-1") if declared else None,
        )
        if len(self.files) >= self.max_files:
            received.error = "TOO_MANY_FILES"
        self.files.append(received)
        self._part.file = received

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        received = self._part.file
        if received is None:
            # Non-file fields are ignored; bound them so nobody streams gigabytes through one.
            self._non_file_bytes += end - start
            if self._non_file_bytes > 64 * 1024:
                raise UnprocessableInput("Form fields other than 'files' are not accepted.")
            return
        if received.error is not None:
            return
        if received.size + (end - start) > self.max_file_bytes:
            received.error = "FILE_TOO_LARGE"
        received.size += end - start
        if received.error is None:
            self._pending.append((received, data[start:end]))

    def _on_part_end(self) -> None:
        if self._part.file is not None and self._part.file.error is None:
            self._pending.append((self._part.file, b""))  # marks the end of the file

    # -- I/O, in a worker thread --
    def _flush(self) -> None:
        for received, chunk in self._pending:
            if received.error is not None:
                received.discard()
                continue
            if received._out is None:
                fd, name = tempfile.mkstemp(dir=self.spool_dir, prefix="upload-")
                received._out = os.fdopen(fd, "wb")
                received.path = Path(name)
            if chunk:
                if len(received.head) < HEAD_BYTES:
                    received.head += chunk[: HEAD_BYTES - len(received.head)]
                received._hash.update(chunk)
                received._out.write(chunk)
            else:
                received._out.close()
                received._out = None
                received.sha256 = received._hash.hexdigest()
        self._pending.clear()

    async def receive(self, content_type: str, stream: AsyncIterator[bytes]) -> list[ReceivedFile]:
        """Consume the request body; every accepted file ends up closed, hashed, on disk."""
        mime, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if mime != b"multipart/form-data" or not boundary:
            raise UnprocessableInput(
                "Send the photos as multipart/form-data, in fields named 'files'.",
                code="INVALID_UPLOAD",
            )
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
            },
        )
        try:
            async for chunk in stream:
                parser.write(chunk)
                if self._pending:
                    await asyncio.to_thread(self._flush)
            parser.finalize()
            await asyncio.to_thread(self._flush)
        except MultipartParseError as exc:
            self.discard_all()
            raise UnprocessableInput(
                "The multipart body is malformed.", code="INVALID_UPLOAD"
            ) from exc
        except BaseException:
            self.discard_all()
            raise
        for received in self.files:
            if received.error is None and received.size == 0:
                received.error = "EMPTY_FILE"
            if received.error is not None:
                received.discard()
        return self.files

    def discard_all(self) -> None:
        """Delete every temp file of this request."""
        for received in self.files:
            received.discard()


_HEIF_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"hevc": "image/heic",
    b"hevx": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
}


def sniff_image_type(head: bytes) -> str | None:
    """The image type its first bytes announce (formats the engine decodes), else None.

    Uploads are refused early when their magic bytes are not an image's; a file that starts like
    an image but is damaged is accepted and fails at indexing with CORRUPT_IMAGE.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return _HEIF_BRANDS[head[8:12]]
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:2] == b"BM":
        return "image/bmp"
    return None
