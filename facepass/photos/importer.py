"""`facepass import`: upload a folder of photos to a session over the admin API, resumably.

Files are hashed locally first and checked against the session (`POST .../photos/check`), so
an interrupted import resumes where it stopped and a repeated one uploads nothing. The rest
goes up in small multipart batches, several at once, each retried on network errors, 429 and
5xx answers with exponential backoff (the server is idempotent by content hash, so a retried
batch never makes a duplicate).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".png",
        ".webp",
        ".heic",
        ".heif",
        ".avif",
        ".tif",
        ".tiff",
        ".gif",
        ".bmp",
    }
)
CHECK_CHUNK = 1000
BATCH_FILES = 8
BATCH_BYTES = 48 * 1024 * 1024
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class ImportAborted(Exception):
    """The import cannot go on (bad token, unknown session, server refusing every retry)."""


class _Retryable(Exception):
    """An attempt worth repeating: a network error or a 429/5xx answer (the reason)."""


def _log_retry(state: RetryCallState) -> None:
    failure = state.outcome.exception() if state.outcome is not None else None
    delay = state.next_action.sleep if state.next_action is not None else 0.0
    logger.warning("retrying", extra={"reason": str(failure), "delay_s": delay})


@dataclass(frozen=True, slots=True)
class LocalPhoto:
    path: Path
    relative: str
    size: int
    sha256: str


@dataclass
class ImportSummary:
    """What an import did; printed as the JSON last line."""

    session_id: str
    files: int = 0
    bytes: int = 0
    uploaded: int = 0
    already_there: int = 0  # skipped before upload: the session had these bytes
    duplicates: int = 0  # uploaded, and the server answered with an existing photo
    rejected: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    index_status: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def find_images(root: Path) -> list[Path]:
    """Image files under root, recursively, in a stable order (hidden files skipped)."""
    found = [
        path
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix.lower() in IMAGE_EXTENSIONS
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    ]
    return sorted(found)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _batches(photos: Sequence[LocalPhoto], max_files: int) -> Iterator[list[LocalPhoto]]:
    batch: list[LocalPhoto] = []
    size = 0
    for photo in photos:
        if batch and (len(batch) >= max_files or size + photo.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(photo)
        size += photo.size
    if batch:
        yield batch


class Importer:
    """Uploads a folder to one session through the admin API."""

    def __init__(
        self,
        client: httpx.Client,
        session_id: uuid.UUID,
        *,
        parallel: int = 4,
        retries: int = 6,
        backoff_s: float = 0.5,
        batch_files: int = BATCH_FILES,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.parallel = max(1, parallel)
        self.retries = retries
        self.backoff_s = backoff_s
        self.batch_files = batch_files
        self.base = f"/api/v1/sessions/{session_id}"

    def _request(
        self,
        method: str,
        path: str,
        *,
        upload: Sequence[LocalPhoto] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """One API call, retried (tenacity) on network errors and retryable statuses.

        Files to upload are opened afresh for each attempt and streamed from disk.
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=self.backoff_s),  # backoff_s, 2x, 4x, ...
            retry=retry_if_exception_type(_Retryable),
            before_sleep=_log_retry,
        )
        try:
            response = retrying(self._attempt, method, path, upload, kwargs)
        except RetryError as exc:
            raise ImportAborted(
                f"{method} {path} kept failing ({exc.last_attempt.exception()})"
            ) from None
        return self._checked(response)

    def _attempt(
        self, method: str, path: str, upload: Sequence[LocalPhoto], kwargs: dict[str, Any]
    ) -> httpx.Response:
        with ExitStack() as stack:
            if upload:
                kwargs["files"] = [
                    (
                        "files",
                        (
                            p.relative,
                            stack.enter_context(p.path.open("rb")),
                            "application/octet-stream",
                        ),
                    )
                    for p in upload
                ]
            try:
                response = self.client.request(method, self.base + path, **kwargs)
            except httpx.TransportError as exc:
                raise _Retryable(type(exc).__name__) from exc
        if response.status_code in RETRYABLE_STATUSES:
            raise _Retryable(f"HTTP {response.status_code}")
        return response

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code < 400:
            return response
        try:
            error = response.json()["error"]
            message = f"{error['code']}: {error['detail']}"
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {response.status_code}"
        raise ImportAborted(message)

    def hash_all(
        self, root: Path, paths: Sequence[Path], progress: Callable[[int], None]
    ) -> list[LocalPhoto]:
        """SHA-256 of every file, in parallel threads."""

        def one(path: Path) -> LocalPhoto:
            photo = LocalPhoto(
                path, str(path.relative_to(root)), path.stat().st_size, sha256_file(path)
            )
            progress(photo.size)
            return photo

        with ThreadPoolExecutor(self.parallel) as pool:
            return list(pool.map(one, paths))

    def already_uploaded(self, photos: Sequence[LocalPhoto]) -> set[str]:
        """The digests the session already holds."""
        digests = sorted({p.sha256 for p in photos})
        known: set[str] = set()
        for start in range(0, len(digests), CHECK_CHUNK):
            chunk = digests[start : start + CHECK_CHUNK]
            response = self._request("POST", "/photos/check", json={"sha256": chunk})
            known.update(response.json()["known"])
        return known

    def upload_batch(self, batch: Sequence[LocalPhoto]) -> list[dict[str, Any]]:
        """Upload one batch; returns the per-file answers, in the batch's order."""
        files: list[dict[str, Any]] = self._request("POST", "/photos", upload=batch).json()["files"]
        return files

    def upload(
        self,
        photos: Sequence[LocalPhoto],
        summary: ImportSummary,
        progress: Callable[[int], None],
    ) -> None:
        """Upload photos in parallel batches, recording each answer in the summary."""
        batches = list(_batches(photos, self.batch_files))
        with ThreadPoolExecutor(self.parallel) as pool:
            futures = {pool.submit(self.upload_batch, batch): batch for batch in batches}
            for future in as_completed(futures):
                batch = futures[future]
                for local, answer in zip(batch, future.result(), strict=True):
                    error = answer.get("error")
                    if error:
                        summary.rejected += 1
                        summary.errors.append({"file": local.relative, **error})
                    elif answer.get("duplicate"):
                        summary.duplicates += 1
                    else:
                        summary.uploaded += 1
                progress(sum(p.size for p in batch))

    def index_status(self) -> dict[str, Any]:
        status: dict[str, Any] = self._request("GET", "/index-status").json()
        return status

    def wait_for_index(
        self, on_status: Callable[[dict[str, Any]], None], poll_s: float = 2.0
    ) -> dict[str, Any]:
        """Follow index-status until nothing is pending or indexing."""
        while True:
            status = self.index_status()
            on_status(status)
            if status["complete"]:
                return status
            time.sleep(poll_s)
