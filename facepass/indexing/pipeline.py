"""Index one photo: claim it, read the original, find and embed faces, store faces and thumbnails.

Every step is safe to repeat (queues deliver at least once): a photo is claimed with a status
compare-and-set that bumps `attempts`, and only the holder of the latest claim may finish it,
in ONE transaction that replaces the photo's faces of this model and records the outcome.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from facepass.engine import FaceEngine, ImageAnalysis, ImageError, ModelError, get_engine
from facepass.observability.metrics import FACES_INDEXED, INDEXING_SECONDS, PHOTOS_INDEXED
from facepass.people.tasks import PeopleWork
from facepass.photos.models import FAILED, INDEXED, INDEXING, PENDING, Face, Photo, SessionIndex
from facepass.photos.storage import (
    ObjectNotFound,
    PhotoStorage,
    StorageError,
    thumbnail_key,
    thumbnail_prefix,
)
from facepass.photos.thumbnails import captured_at, make_thumbnails
from facepass.privacy.suppression import faces_to_write

if TYPE_CHECKING:
    from facepass.people.tasks import PeopleTasks

logger = logging.getLogger(__name__)

Timings = MutableMapping[str, float]
Outcome = Literal["indexed", "failed", "skipped", "superseded"]


class IndexingWork(PeopleWork, Protocol):
    """The process's parts indexing uses (a IndexingWork of facepass.composition has them)."""

    @property
    def storage(self) -> PhotoStorage: ...


class TransientIndexingError(Exception):
    """Indexing hit a failure worth retrying later (database or storage unavailable)."""


@dataclass
class IndexingContext:
    """What indexing needs in one process: its parts, its engine, and who it is."""

    work: IndexingWork
    worker_id: str
    engine: FaceEngine
    # Per-stage milliseconds are summed here when a WorkerObserver measures (the lab's index
    # benchmark); production leaves it None and counts in its metrics.
    timings: Timings | None = None
    people: PeopleTasks | None = None  # regrouping requests after indexing (same broker)


@dataclass(frozen=True, slots=True)
class Claim:
    photo_id: uuid.UUID
    session_id: uuid.UUID
    storage_key: str
    token: int  # the `attempts` value this claim set


def _lap(timings: Timings | None, stage: str, started: float) -> float:
    now = time.perf_counter()
    if timings is not None:
        timings[stage] = timings.get(stage, 0.0) + (now - started) * 1000
    return now


def claim(ctx: IndexingContext, photo_id: uuid.UUID) -> Claim | None:
    """Take a pending photo (or one this worker already holds); None if nobody should index it."""
    max_attempts = ctx.work.settings.index_max_attempts
    # While a session is re-indexed with another model, a worker still running an older model
    # (a rolling upgrade) leaves its photos to the workers that have the new one.
    rebuilt_by_other_model = (
        select(SessionIndex.session_id)
        .where(
            SessionIndex.session_id == Photo.session_id,
            SessionIndex.building_model_id.is_not(None),
            SessionIndex.building_model_id != ctx.engine.model_id,
        )
        .exists()
    )
    with ctx.work.own_db.session() as db:
        row = db.execute(
            update(Photo)
            .where(
                Photo.id == photo_id,
                (Photo.status == PENDING)
                | ((Photo.status == INDEXING) & (Photo.worker_id == ctx.worker_id)),
                ~rebuilt_by_other_model,
            )
            .values(
                status=INDEXING,
                worker_id=ctx.worker_id,
                attempts=Photo.attempts + 1,
                updated_at=text("now()"),
            )
            .returning(Photo.session_id, Photo.storage_key, Photo.attempts)
        ).one_or_none()
        if row is None:
            return None
        if row.attempts > max_attempts:
            _record_failure(
                db,
                photo_id,
                row.attempts,
                "INDEXING_FAILED",
                f"Indexing was attempted {max_attempts} times without success.",
                ctx.engine.model_id,
            )
            PHOTOS_INDEXED.labels("failed").inc()
            return None
    return Claim(photo_id, row.session_id, row.storage_key, row.attempts)


def release(ctx: IndexingContext, held: Claim) -> None:
    """Give a claim back after a transient failure, so any worker may retry the photo."""
    with ctx.work.own_db.session() as db:
        db.execute(
            update(Photo)
            .where(Photo.id == held.photo_id, Photo.status == INDEXING)
            .where(Photo.attempts == held.token)
            .values(status=PENDING, worker_id=None, updated_at=text("now()"))
        )


def _record_failure(
    db: Session, photo_id: uuid.UUID, token: int, code: str, detail: str, model_id: str
) -> bool:
    done = db.execute(
        update(Photo)
        .where(Photo.id == photo_id, Photo.status == INDEXING, Photo.attempts == token)
        .values(
            status=FAILED,
            failure_code=code,
            failure_detail=detail[:500],
            worker_id=None,
            face_count=0,
            updated_at=text("now()"),
        )
        .returning(Photo.id)
    ).first()
    if done is not None:
        db.execute(delete(Face).where(Face.photo_id == photo_id, Face.model_id == model_id))
    return done is not None


def _face_rows(held: Claim, analysis: ImageAnalysis) -> list[dict[str, object]]:
    rows = []
    for face in analysis.faces:
        quality = face.quality
        rows.append(
            {
                "photo_id": held.photo_id,
                "session_id": held.session_id,
                "model_id": analysis.model_id,
                "box_left": face.box.left,
                "box_top": face.box.top,
                "box_right": face.box.right,
                "box_bottom": face.box.bottom,
                "landmarks": [list(point) for point in face.landmarks],
                "detection_score": quality.detection_score,
                "size_px": quality.size_px,
                "sharpness": quality.sharpness,
                "yaw": quality.yaw,
                "pitch": quality.pitch,
                "roll": quality.roll,
                "indexable": quality.indexable,
                # Only faces worth searching carry an embedding (and enter the vector index).
                "embedding": face.embedding if quality.indexable else None,
            }
        )
    return rows


def finish(ctx: IndexingContext, held: Claim, analysis: ImageAnalysis, data: bytes) -> bool:
    """Replace the photo's faces of this model and mark it indexed, if the claim still holds."""
    rows = _face_rows(held, analysis)
    with ctx.work.own_db.session() as db:
        current = db.execute(
            select(Photo.status, Photo.attempts, Photo.sha256)
            .where(Photo.id == held.photo_id)
            .with_for_update()
        ).one_or_none()
        if current is None or current.status != INDEXING or current.attempts != held.token:
            return False
        # Faces a guest opted out of, or a studio removed, are never written again; nor any
        # face of a session past its face retention.
        rows = faces_to_write(db, held.session_id, current.sha256, rows)
        db.execute(
            delete(Face).where(Face.photo_id == held.photo_id, Face.model_id == analysis.model_id)
        )
        if rows:
            db.execute(insert(Face), rows)
        db.execute(
            update(Photo)
            .where(Photo.id == held.photo_id)
            .values(
                status=INDEXED,
                model_id=analysis.model_id,
                face_count=len(rows),
                width=analysis.width,
                height=analysis.height,
                captured_at=captured_at(data),
                failure_code=None,
                failure_detail=None,
                worker_id=None,
                indexed_at=text("now()"),
                updated_at=text("now()"),
            )
        )
        # A session's first indexed photo decides the model its searches use.
        db.execute(
            pg_insert(SessionIndex)
            .values(session_id=held.session_id, active_model_id=analysis.model_id)
            .on_conflict_do_nothing()
        )
    return True


def _fail(ctx: IndexingContext, held: Claim, code: str, detail: str) -> None:
    with ctx.work.own_db.session() as db:
        _record_failure(db, held.photo_id, held.token, code, detail, ctx.engine.model_id)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, StorageError) and not isinstance(exc, ObjectNotFound):
        return True
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def index_photo(ctx: IndexingContext, photo_id: uuid.UUID) -> Outcome:
    """Index one photo end to end; raises TransientIndexingError when worth retrying."""
    mark = time.perf_counter()
    try:
        held = claim(ctx, photo_id)
        _lap(ctx.timings, "db", mark)
    except Exception as exc:
        if _is_transient(exc):
            raise TransientIndexingError(f"cannot claim photo: {type(exc).__name__}") from exc
        raise
    if held is None:
        return "skipped"
    started = time.perf_counter()
    try:
        outcome = _process(ctx, held)
    except Exception as exc:
        if not _is_transient(exc):
            return _fail_unexpected(ctx, held, exc)
        logger.warning(
            "transient indexing failure",
            extra={"photo_id": str(photo_id), "error_type": type(exc).__name__},
        )
        try:
            release(ctx, held)
        except Exception:
            logger.warning("could not release claim", extra={"photo_id": str(photo_id)})
        raise TransientIndexingError(f"{type(exc).__name__} while indexing") from exc
    elapsed = time.perf_counter() - started
    if outcome in ("indexed", "failed"):
        INDEXING_SECONDS.observe(elapsed)
        PHOTOS_INDEXED.labels(outcome).inc()
    return outcome


def _fail_unexpected(ctx: IndexingContext, held: Claim, exc: Exception) -> Outcome:
    # A bug or an engine error on one image is most likely deterministic: retrying would only
    # repeat it, so the photo fails alone, with the error's type for the operator.
    logger.error(
        "unexpected indexing error",
        exc_info=True,
        extra={"photo_id": str(held.photo_id), "error_type": type(exc).__name__},
    )
    try:
        _fail(ctx, held, "INDEXING_ERROR", f"Indexing failed unexpectedly ({type(exc).__name__}).")
    except Exception:
        logger.warning("could not record failure", extra={"photo_id": str(held.photo_id)})
    PHOTOS_INDEXED.labels("failed").inc()
    return "failed"


def engine_for_photo(ctx: IndexingContext, session_id: uuid.UUID) -> FaceEngine:
    """The engine whose faces the session's searches read: a session indexed with an older
    model keeps it for new photos until `facepass reindex` moves it (a session being rebuilt,
    or one not indexed yet, gets this worker's model)."""
    with ctx.work.own_db.session() as db:
        row = db.execute(
            select(SessionIndex.active_model_id, SessionIndex.building_model_id).where(
                SessionIndex.session_id == session_id
            )
        ).one_or_none()
    if row is None or row.building_model_id is not None:
        return ctx.engine
    if row.active_model_id == ctx.engine.model_id:
        return ctx.engine
    try:
        return get_engine(dataclasses.replace(ctx.engine.config, embedder=row.active_model_id))
    except ModelError:
        # Indexed anyway, with this worker's model: its faces count once the session is
        # re-indexed (`facepass reindex`), which the operator must do to search it here.
        logger.warning(
            "model of a session index unavailable; indexing with the worker's",
            extra={"session_id": str(session_id), "model_id": row.active_model_id},
        )
        return ctx.engine


def _process(ctx: IndexingContext, held: Claim) -> Outcome:
    storage = ctx.work.storage
    timings = ctx.timings
    mark = time.perf_counter()
    engine = engine_for_photo(ctx, held.session_id)
    try:
        data = storage.get(held.storage_key)
    except ObjectNotFound:
        _fail(ctx, held, "ORIGINAL_MISSING", "The original file is missing from storage.")
        return "failed"
    mark = _lap(timings, "fetch", mark)
    try:
        analysis = engine.analyze(
            data,
            timings=timings,
            keep_decoded=True,
            min_face_fraction=engine.config.photo_min_face_fraction,
        )
        mark = time.perf_counter()
        thumbnails = make_thumbnails(data, analysis.decoded)
    except ImageError as exc:
        _fail(ctx, held, exc.code, exc.detail)
        logger.info(
            "photo failed", extra={"photo_id": str(held.photo_id), "failure_code": exc.code}
        )
        return "failed"
    for size, jpeg in thumbnails.items():
        storage.put(thumbnail_key(held.session_id, held.photo_id, size), jpeg, "image/jpeg")
    mark = _lap(timings, "thumbnails", mark)
    finished = finish(ctx, held, analysis, data)
    _lap(timings, "db", mark)
    if not finished:
        if not _photo_exists(ctx, held.photo_id):
            # Deleted while we worked: the thumbnails we just wrote belong to nobody.
            storage.delete_prefix(thumbnail_prefix(held.session_id, held.photo_id))
        return "superseded"
    FACES_INDEXED.inc(len(analysis.faces))
    logger.info(
        "photo indexed",
        extra={"photo_id": str(held.photo_id), "faces": len(analysis.faces)},
    )
    return "indexed"


def _photo_exists(ctx: IndexingContext, photo_id: uuid.UUID) -> bool:
    with ctx.work.own_db.session() as db:
        return db.execute(select(Photo.id).where(Photo.id == photo_id)).first() is not None
