"""Where originals and thumbnails live: the local filesystem (default) or S3-compatible storage.

Keys are the same on every backend: `sessions/{session_id}/originals/{photo_id}` for the
original (never modified) and `sessions/{session_id}/thumbs/{photo_id}/{size}.jpg` for the
thumbnails made at indexing time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol

from facepass.config import ConfigError, Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ThumbnailSize = Literal["thumb", "large"]
THUMBNAIL_SIDES: dict[ThumbnailSize, int] = {"thumb": 320, "large": 1600}
Body = bytes | IO[bytes]
_COPY_CHUNK = 1024 * 1024


class StorageError(Exception):
    """The storage backend failed (network, permissions, disk); usually worth a retry."""


class ObjectNotFound(StorageError):
    """No object under that key."""


def session_prefix(session_id: uuid.UUID | str) -> str:
    """The prefix of everything stored for one session (ends with '/')."""
    return f"sessions/{session_id}/"


def original_key(session_id: uuid.UUID | str, photo_id: uuid.UUID | str) -> str:
    """Storage key of a photo's original upload."""
    return f"sessions/{session_id}/originals/{photo_id}"


def thumbnail_prefix(session_id: uuid.UUID | str, photo_id: uuid.UUID | str) -> str:
    """The prefix of a photo's thumbnails (ends with '/')."""
    return f"sessions/{session_id}/thumbs/{photo_id}/"


def thumbnail_key(
    session_id: uuid.UUID | str, photo_id: uuid.UUID | str, size: ThumbnailSize
) -> str:
    """Storage key of one thumbnail size ('thumb' ~320 px or 'large' ~1600 px, JPEG)."""
    return f"{thumbnail_prefix(session_id, photo_id)}{size}.jpg"


class PhotoStorage(Protocol):
    """What FacePass needs from a blob store."""

    def put(self, key: str, body: Body, content_type: str) -> None:
        """Store bytes or a binary file object (read from its current position) under key."""

    def get(self, key: str) -> bytes:
        """The whole object; raises ObjectNotFound."""

    def open(self, key: str) -> IO[bytes]:
        """A binary stream of the object (caller closes it); raises ObjectNotFound."""

    def delete(self, key: str) -> None:
        """Remove one object; a missing key is not an error."""

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with prefix; returns how many."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""


class LocalStorage:
    """Objects as files under one root directory (`<data_dir>/photos` by default)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not key or not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"invalid storage key: {key!r}")
        return path

    def put(self, key: str, body: Body, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write aside, then rename: readers never see a half-written file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(body, bytes):
                    out.write(body)
                else:
                    shutil.copyfileobj(body, out, _COPY_CHUNK)
            os.replace(tmp, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def get(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def open(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc

    def delete(self, key: str) -> None:
        with suppress(FileNotFoundError):
            self._path(key).unlink()

    def delete_prefix(self, prefix: str) -> int:
        base = self._path(prefix.rstrip("/"))
        if base.is_file():
            base.unlink()
            return 1
        if not base.is_dir():
            return 0
        count = sum(1 for p in base.rglob("*") if p.is_file())
        shutil.rmtree(base, ignore_errors=True)
        return count

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Storage:
    """Objects in an S3-compatible bucket (AWS, MinIO, Ceph...), under a key prefix."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: S3Client | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        self.client: S3Client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 4, "mode": "standard"},
            ),
        )

    def _key(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"invalid storage key: {key!r}")
        return self.prefix + key

    def _call(self, operation: str, key: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise ObjectNotFound(key) from exc
            raise StorageError(f"S3 {operation} failed: {code or 'error'}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 {operation} failed: {type(exc).__name__}") from exc

    def put(self, key: str, body: Body, content_type: str) -> None:
        if isinstance(body, bytes):
            self._call("put_object", key, Key=self._key(key), Body=body, ContentType=content_type)
            return
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # Multipart for large files, streamed from the file object.
            self.client.upload_fileobj(
                body, self.bucket, self._key(key), ExtraArgs={"ContentType": content_type}
            )
        except (S3UploadFailedError, BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 upload failed: {type(exc).__name__}") from exc

    def get(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def open(self, key: str) -> IO[bytes]:
        response = self._call("get_object", key, Key=self._key(key))
        return response["Body"]  # type: ignore[no-any-return]

    def delete(self, key: str) -> None:
        self._call("delete_object", key, Key=self._key(key))

    def _list(self, prefix: str) -> Iterator[str]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Prefix": self._key(prefix)}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list_objects_v2", prefix, **kwargs)
            for item in page.get("Contents", []):
                yield item["Key"]
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def delete_prefix(self, prefix: str) -> int:
        keys = list(self._list(prefix))
        for start in range(0, len(keys), 1000):  # the API's batch limit
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self._call("delete_objects", prefix, Delete={"Objects": batch, "Quiet": True})
        return len(keys)

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", key, Key=self._key(key))
        except ObjectNotFound:
            return False
        return True


def build_storage(settings: Settings) -> PhotoStorage:
    """The storage backend the settings choose."""
    if settings.storage_backend == "s3":
        if not settings.s3_bucket:
            raise ConfigError("FACEPASS_S3_BUCKET is required when FACEPASS_STORAGE_BACKEND=s3")
        return S3Storage(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
    return LocalStorage(settings.data_dir / "photos")
