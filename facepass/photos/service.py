"""Photo logic behind the routes: uploads, listing, deletion and index status."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.errors import NotFound, ServiceUnavailable
from facepass.photos.models import (
    FAILED,
    INDEXED,
    INDEXING,
    PENDING,
    PHOTO_STATUSES,
    Face,
    Photo,
    SessionIndex,
)
from facepass.photos.schemas import (
    DeletedPhotos,
    FileError,
    IndexStatus,
    KnownPhoto,
    ModelStatus,
    PhotoOut,
    PhotoPage,
    UploadedFile,
    UploadResult,
)
from facepass.photos.storage import (
    PhotoStorage,
    StorageError,
    original_key,
    session_prefix,
    thumbnail_prefix,
)
from facepass.photos.upload import ReceivedFile, sniff_image_type

logger = logging.getLogger(__name__)


class IndexQueue(Protocol):
    """Where new photos go to be indexed (facepass.indexing.queue.IndexQueue); photos sit below
    indexing, so they name only what they call."""

    def enqueue(self, photo_ids: Iterable[uuid.UUID | str]) -> int: ...


THROUGHPUT_WINDOW = timedelta(minutes=5)
_FILE_ERRORS = {
    "EMPTY_FILE": "The file is empty.",
    "FILE_TOO_LARGE": "The file is larger than the per-file limit of {max_bytes} bytes.",
    "TOO_MANY_FILES": "Only {max_files} files are accepted per request; send the rest again.",
    "INCOMPLETE_FILE": "The file did not arrive whole; send it again.",
    "UNSUPPORTED_TYPE": "The file is not an image in a supported format "
    "(JPEG, PNG, WebP, HEIC/HEIF, AVIF, TIFF, GIF, BMP).",
}


def active_model_id(db: Session, session_id: uuid.UUID, default: str) -> str:
    """The model whose faces a session's searches use (`default` before its first index)."""
    found = db.execute(
        select(SessionIndex.active_model_id).where(SessionIndex.session_id == session_id)
    ).scalar_one_or_none()
    return found or default


def _rejected(received: ReceivedFile, code: str, settings: Settings) -> UploadedFile:
    detail = _FILE_ERRORS[code].format(
        max_bytes=settings.max_upload_bytes,
        max_files=settings.max_files_per_upload,
    )
    return UploadedFile(
        filename=received.filename,
        sha256=received.sha256 or None,
        size_bytes=received.size,
        status="rejected",
        error=FileError(code=code, detail=detail),
    )


def _existing(db: Session, session_id: uuid.UUID, sha256: str) -> Photo | None:
    return db.execute(
        select(Photo).where(Photo.session_id == session_id, Photo.sha256 == sha256)
    ).scalar_one_or_none()


def _duplicate(received: ReceivedFile, photo: Photo) -> UploadedFile:
    return UploadedFile(
        filename=received.filename,
        photo_id=photo.id,
        sha256=photo.sha256,
        size_bytes=photo.size_bytes,
        status=photo.status,  # type: ignore[arg-type]
        duplicate=True,
    )


def _store_one(
    own_db: OwnDatabase,
    storage: PhotoStorage,
    session_id: uuid.UUID,
    received: ReceivedFile,
    content_type: str,
) -> tuple[UploadedFile, bool]:
    """Store one spooled file as a new photo, or report the photo that already has its bytes."""
    with own_db.session() as db:
        found = _existing(db, session_id, received.sha256)
    if found is not None:
        return _duplicate(received, found), False
    photo_id = uuid.uuid4()
    key = original_key(session_id, photo_id)
    assert received.path is not None  # store_uploads passes complete files only
    with received.path.open("rb") as body:
        storage.put(key, body, content_type)
    try:
        with own_db.session() as db:
            inserted = db.execute(
                pg_insert(Photo)
                .values(
                    id=photo_id,
                    session_id=session_id,
                    sha256=received.sha256,
                    original_filename=received.filename,
                    storage_key=key,
                    content_type=content_type,
                    size_bytes=received.size,
                    status=PENDING,
                )
                .on_conflict_do_nothing(index_elements=[Photo.session_id, Photo.sha256])
                .returning(Photo.id)
            ).first()
            raced = None if inserted is not None else _existing(db, session_id, received.sha256)
    except BaseException:
        # No row will ever point at the stored original: it must not stay behind.
        _delete_quietly(storage, key)
        raise
    if raced is not None:
        # The same bytes arrived concurrently in another request, which won the insert.
        storage.delete(key)
        return _duplicate(received, raced), False
    new = UploadedFile(
        filename=received.filename,
        photo_id=photo_id,
        sha256=received.sha256,
        size_bytes=received.size,
        status="pending",
    )
    return new, True


def _delete_quietly(storage: PhotoStorage, key: str) -> None:
    try:
        storage.delete(key)
    except Exception:
        logger.warning("could not delete an orphaned original", exc_info=True)


def store_uploads(
    own_db: OwnDatabase,
    storage: PhotoStorage,
    queue: IndexQueue,
    settings: Settings,
    session_id: uuid.UUID,
    files: Sequence[ReceivedFile],
) -> UploadResult:
    """Store one request's spooled files and queue the new photos (blocking: use a thread)."""
    answers: list[UploadedFile] = []
    new_ids: list[uuid.UUID] = []
    try:
        for received in files:
            if received.error is not None:
                answers.append(_rejected(received, received.error, settings))
                continue
            if not received.complete:  # never hash-less: that would merge unrelated files
                answers.append(_rejected(received, "INCOMPLETE_FILE", settings))
                continue
            content_type = sniff_image_type(received.head)
            if content_type is None:
                answers.append(_rejected(received, "UNSUPPORTED_TYPE", settings))
                continue
            try:
                answer, created = _store_one(own_db, storage, session_id, received, content_type)
            except StorageError as exc:
                # Files stored so far are safe: a retry reports them as duplicates.
                raise ServiceUnavailable(
                    "Photo storage is unavailable; retry the upload.", code="STORAGE_UNAVAILABLE"
                ) from exc
            except OperationalError as exc:
                raise ServiceUnavailable(
                    "The database is unavailable; retry the upload.", code="DATABASE_UNAVAILABLE"
                ) from exc
            answers.append(answer)
            if created and answer.photo_id is not None:
                new_ids.append(answer.photo_id)
    finally:
        for received in files:
            received.discard()
        if new_ids:
            _queue(queue, new_ids)
    result = UploadResult(
        session_id=session_id,
        accepted=len(new_ids),
        duplicates=sum(1 for a in answers if a.duplicate),
        rejected=sum(1 for a in answers if a.error is not None),
        files=answers,
    )
    logger.info(
        "photos uploaded",
        extra={
            "session_id": str(session_id),
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
            "bytes": sum(f.size for f in files),
        },
    )
    return result


def _queue(queue: IndexQueue, photo_ids: list[uuid.UUID]) -> None:
    try:
        queue.enqueue(photo_ids)
    except Exception:
        logger.warning("could not queue photos", exc_info=True, extra={"photos": len(photo_ids)})


def list_photos(
    db: Session, session_id: uuid.UUID, *, status: str | None, limit: int, offset: int
) -> PhotoPage:
    """A page of a session's photos, oldest first, optionally of one status."""
    where = [Photo.session_id == session_id]
    if status is not None:
        where.append(Photo.status == status)
    total = db.execute(select(func.count()).select_from(Photo).where(*where)).scalar_one()
    photos = db.execute(
        select(Photo).where(*where).order_by(Photo.created_at, Photo.id).limit(limit).offset(offset)
    ).scalars()
    items = [PhotoOut.model_validate(photo) for photo in photos]
    return PhotoPage(items=items, total=total, limit=limit, offset=offset)


def check_hashes(
    db: Session, session_id: uuid.UUID, digests: Sequence[str]
) -> dict[str, KnownPhoto]:
    """Which of these SHA-256 digests the session already holds (for resumable imports)."""
    wanted = {d.lower() for d in digests}
    rows = db.execute(
        select(Photo.sha256, Photo.id, Photo.status).where(
            Photo.session_id == session_id, Photo.sha256.in_(wanted)
        )
    )
    return {
        sha: KnownPhoto(photo_id=photo_id, status=status)  # type: ignore[arg-type]
        for sha, photo_id, status in rows
    }


def delete_photo(
    own_db: OwnDatabase, storage: PhotoStorage, session_id: uuid.UUID, photo_id: uuid.UUID
) -> None:
    """Delete one photo: its row, its faces (cascade), its original and thumbnails."""
    with own_db.session() as db:
        deleted = db.execute(
            delete(Photo)
            .where(Photo.id == photo_id, Photo.session_id == session_id)
            .returning(Photo.storage_key)
        ).first()
    if deleted is None:
        raise NotFound("No such photo in this session.", code="PHOTO_NOT_FOUND")
    _delete_files(storage, [deleted.storage_key], thumbnail_prefix(session_id, photo_id))
    logger.info("photo deleted", extra={"session_id": str(session_id), "photo_id": str(photo_id)})


def _delete_files(storage: PhotoStorage, keys: list[str], prefix: str) -> int:
    # Rows go first: a file left behind by a failure here is garbage, never a dangling photo.
    try:
        for key in keys:
            storage.delete(key)
        return len(keys) + storage.delete_prefix(prefix)
    except Exception:
        logger.warning("could not delete stored files", exc_info=True)
        return 0


def delete_session_photos(
    own_db: OwnDatabase, storage: PhotoStorage, session_id: uuid.UUID
) -> DeletedPhotos:
    """Delete everything FacePass holds for a session: photos, faces, index state and files."""
    with own_db.session() as db:
        count = db.execute(
            delete(Photo).where(Photo.session_id == session_id).returning(Photo.id)
        ).all()
        db.execute(delete(Face).where(Face.session_id == session_id))
        db.execute(delete(SessionIndex).where(SessionIndex.session_id == session_id))
    files = _delete_files(storage, [], session_prefix(session_id))
    logger.info(
        "session photos deleted",
        extra={"session_id": str(session_id), "photos": len(count), "files": files},
    )
    return DeletedPhotos(session_id=session_id, deleted_photos=len(count), deleted_files=files)


def _throughput(db: Session, where: list[ColumnElement[bool]], now: datetime) -> float | None:
    since = now - THROUGHPUT_WINDOW
    count, first = db.execute(
        select(func.count(), func.min(Photo.indexed_at))
        .where(*where)
        .where(Photo.status.in_((INDEXED, FAILED)), Photo.indexed_at >= since)
    ).one()
    if not count or first is None:
        return None
    # At least a few seconds of window, so one photo just done does not promise the moon.
    span = max((now - first).total_seconds(), 5.0)
    return float(count) / span


def index_status(db: Session, session_id: uuid.UUID, default_model: str | None) -> IndexStatus:
    """Where a session's indexing stands: counts, failures, model, throughput and ETA."""
    by_status = dict.fromkeys(PHOTO_STATUSES, 0)
    for status, count in db.execute(
        select(Photo.status, func.count())
        .where(Photo.session_id == session_id)
        .group_by(Photo.status)
    ):
        by_status[status] = count
    failures = {
        code or "UNKNOWN": count
        for code, count in db.execute(
            select(Photo.failure_code, func.count())
            .where(Photo.session_id == session_id, Photo.status == FAILED)
            .group_by(Photo.failure_code)
        )
    }
    index = db.execute(
        select(SessionIndex).where(SessionIndex.session_id == session_id)
    ).scalar_one_or_none()
    active = index.active_model_id if index is not None else default_model
    faces = db.execute(
        select(func.count())
        .select_from(Face)
        .where(Face.session_id == session_id, Face.model_id == active, Face.indexable)
    ).scalar_one()
    remaining = by_status[PENDING] + by_status[INDEXING]
    now = datetime.now(UTC)
    rate = _throughput(db, [Photo.session_id == session_id], now) or _throughput(db, [], now)
    eta = 0.0 if remaining == 0 else (remaining / rate if rate else None)
    photos: dict[str, int] = {"total": sum(by_status.values()), **by_status}
    return IndexStatus(
        session_id=session_id,
        photos=photos,  # type: ignore[arg-type]
        faces_indexed=faces,
        failures=failures,
        model=ModelStatus(
            active=active, building=index.building_model_id if index is not None else None
        ),
        complete=remaining == 0,
        photos_per_second=round(rate, 3) if rate else None,
        eta_seconds=round(eta, 1) if eta is not None else None,
    )
