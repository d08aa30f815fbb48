"""What the `index_photos` actor runs: a batch of photo ids, each indexed on its own."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from typing import TYPE_CHECKING

from sqlalchemy import select

from facepass.indexing.pipeline import (
    IndexingContext,
    Outcome,
    Timings,
    TransientIndexingError,
    index_photo,
)
from facepass.indexing.reindex import complete_if_built
from facepass.photos.models import Photo, SessionIndex

if TYPE_CHECKING:
    from facepass.indexing.pipeline import IndexingWork
    from facepass.people.tasks import PeopleTasks

logger = logging.getLogger(__name__)


def new_worker_id() -> str:
    """A unique id for one consumer of the queue: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ContextHolder:
    """Builds the IndexingContext on first use, in the process (and thread) that needs it."""

    def __init__(self, work: IndexingWork, worker_id: str) -> None:
        self.work = work
        self.worker_id = worker_id
        self.people: PeopleTasks | None = None
        # Per-stage milliseconds, summed, when a WorkerObserver measures (see indexing.worker).
        self.timings: Timings | None = None
        self._context: IndexingContext | None = None
        self._lock = threading.Lock()

    def get(self) -> IndexingContext:
        with self._lock:
            if self._context is None:
                self._context = IndexingContext(
                    self.work, self.worker_id, self.work.engines.get(), self.timings, self.people
                )
            return self._context


def _parse_ids(photo_ids: list[str]) -> list[uuid.UUID]:
    parsed = []
    for raw in photo_ids:
        try:
            parsed.append(uuid.UUID(str(raw)))
        except ValueError:
            logger.warning("ignoring a malformed photo id in a queue message")
    return parsed


def _complete_sessions(ctx: IndexingContext, photo_ids: list[uuid.UUID]) -> None:
    """Switch sessions whose re-index by this model is now complete."""
    with ctx.work.own_db.session() as db:
        building = db.execute(
            select(SessionIndex.session_id)
            .join(Photo, Photo.session_id == SessionIndex.session_id)
            .where(Photo.id.in_(photo_ids))
            .where(SessionIndex.building_model_id == ctx.engine.model_id)
            .distinct()
        ).scalars()
        sessions = list(building)
    for session_id in sessions:
        with ctx.work.own_db.session() as db:
            complete_if_built(db, session_id, ctx.engine.model_id)


def _request_regroup(ctx: IndexingContext, photo_ids: list[uuid.UUID]) -> None:
    """Nudge the debounced regrouping of the sessions' people (facepass.people.tasks)."""
    people = ctx.people
    if people is None:
        return
    try:
        people.request_for_photos(photo_ids)
    except Exception:  # the photo is indexed either way; the next photo asks again
        logger.warning("people regrouping request failed", exc_info=True)


def run_batch(ctx: IndexingContext, photo_ids: list[str]) -> Counter[Outcome]:
    """Index each photo; a transient failure of any is raised at the end so the message retries.

    Photos already done are skipped on the retry, so a retried batch only redoes what failed.
    """
    started = time.perf_counter()
    ids = _parse_ids(photo_ids)
    outcomes: Counter[Outcome] = Counter()
    transient: TransientIndexingError | None = None
    for photo_id in ids:
        try:
            outcomes[index_photo(ctx, photo_id)] += 1
        except TransientIndexingError as exc:
            transient = exc
    if outcomes["indexed"] or outcomes["failed"]:
        try:
            _complete_sessions(ctx, ids)
        except Exception:
            logger.warning("session completion check failed", exc_info=True)
    if outcomes["indexed"]:
        _request_regroup(ctx, ids)
    logger.info(
        "batch done",
        extra={
            "photos": len(ids),
            **{f"n_{k}": v for k, v in outcomes.items()},
            "elapsed_ms": round((time.perf_counter() - started) * 1000),
        },
    )
    if transient is not None:
        raise transient
    return outcomes
