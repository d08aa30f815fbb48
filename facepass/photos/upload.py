"""Receive a multipart upload as a stream: each file spooled to a temp file while it is hashed.

The request is never held in memory: the shared reader (`facepass.http.multipart`) hands each
chunk of a `files` part here; it is written to the file's temp file and fed to SHA-256 off the
event loop. A file over the per-file limit stops being written at once (the rest of it is read
and discarded) and is reported FILE_TOO_LARGE; files beyond the per-request limit are discarded
the same way (TOO_MANY_FILES). A file counts as received only once its part's closing boundary
has arrived: a body cut short is refused whole, and nothing of it is kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from facepass.errors import UnprocessableInput
from facepass.http.multipart import PartInfo, multipart_boundary, read_multipart

logger = logging.getLogger(__name__)

FILES_FIELD = "files"
HEAD_BYTES = 64  # enough for every magic number we sniff
SPOOL_PREFIX = "upload-"  # temp files of uploads in progress; swept at start-up when stale
_EXTRA_PARTS = 64  # parts beyond max_files that are still answered TOO_MANY_FILES
STALE_SPOOL_AFTER_S = 3600.0  # far longer than any upload takes to arrive and be stored


def sweep_stale_spool(spool_dir: Path, older_than_s: float = STALE_SPOOL_AFTER_S) -> int:
    """Delete upload temp files left by a process that was killed mid-upload; returns how many.

    Only files untouched for `older_than_s` go: another process sharing the data directory may
    be receiving an upload right now.
    """
    if not spool_dir.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for path in spool_dir.glob(f"{SPOOL_PREFIX}*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue  # gone meanwhile, or not ours to delete
    if removed:
        logger.info("stale upload temp files removed", extra={"files": removed})
    return removed


@dataclass
class ReceivedFile:
    """One file of the request, spooled to `path` (None when refused while receiving)."""

    filename: str
    declared_type: str | None
    path: Path | None = None
    size: int = 0
    sha256: str = ""  # set only once the whole file has arrived
    head: bytes = b""
    error: str | None = None  # EMPTY_FILE, FILE_TOO_LARGE, TOO_MANY_FILES
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256, repr=False)
    _out: IO[bytes] | None = field(default=None, repr=False)

    @property
    def complete(self) -> bool:
        """True when the file arrived whole, was not refused, and lies hashed on disk."""
        return self.error is None and self.path is not None and len(self.sha256) == 64

    def discard(self) -> None:
        """Delete the temp file (safe to call twice)."""
        if self._out is not None:
            self._out.close()
            self._out = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


class MultipartReceiver:
    """Reads `multipart/form-data` from a byte stream into ReceivedFiles under `spool_dir`."""

    def __init__(self, spool_dir: Path, *, max_file_bytes: int, max_files: int) -> None:
        self.spool_dir = spool_dir
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.files: list[ReceivedFile] = []
        self._current: ReceivedFile | None = None
        self._pending: list[tuple[ReceivedFile, bytes]] = []

    # -- PartHandler callbacks (synchronous, no I/O) --
    def on_part(self, part: PartInfo) -> bool:
        if part.filename is None or part.name != FILES_FIELD:
            return False
        received = ReceivedFile(
            filename=os.path.basename(part.filename.replace("\\", "/"))[:255] or "unnamed",
            declared_type=part.content_type,
        )
        if len(self.files) >= self.max_files:
            received.error = "TOO_MANY_FILES"
        self.files.append(received)
        self._current = received
        return True

    def on_data(self, data: bytes) -> None:
        received = self._current
        if received is None or received.error is not None:
            return
        if received.size + len(data) > self.max_file_bytes:
            received.error = "FILE_TOO_LARGE"
        received.size += len(data)
        if received.error is None:
            self._pending.append((received, data))

    def on_part_end(self) -> None:
        if self._current is not None and self._current.error is None:
            self._pending.append((self._current, b""))  # marks the end of the file
        self._current = None

    # -- I/O, in a worker thread --
    def _flush(self) -> None:
        for received, chunk in self._pending:
            if received.error is not None:
                received.discard()
                continue
            if received._out is None and received.path is None:
                fd, name = tempfile.mkstemp(dir=self.spool_dir, prefix=SPOOL_PREFIX)
                received._out = os.fdopen(fd, "wb")
                received.path = Path(name)
            if chunk:
                if len(received.head) < HEAD_BYTES:
                    received.head += chunk[: HEAD_BYTES - len(received.head)]
                received._hash.update(chunk)
                assert received._out is not None
                received._out.write(chunk)
            elif received._out is not None:
                received._out.close()
                received._out = None
                received.sha256 = received._hash.hexdigest()
        self._pending.clear()

    async def _flush_pending(self) -> None:
        if self._pending:
            await asyncio.to_thread(self._flush)

    async def receive(self, content_type: str, stream: AsyncIterator[bytes]) -> list[ReceivedFile]:
        """Consume the request body; every accepted file ends up closed, hashed, on disk."""
        boundary = multipart_boundary(content_type)
        if boundary is None:
            raise UnprocessableInput(
                "Send the photos as multipart/form-data, in fields named 'files'.",
                code="INVALID_UPLOAD",
            )
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        try:
            await read_multipart(
                boundary,
                stream,
                self,
                max_parts=self.max_files + _EXTRA_PARTS,
                after_chunk=self._flush_pending,
            )
            await self._flush_pending()
        except BaseException:
            self._pending.clear()
            await asyncio.to_thread(self.discard_all)
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
