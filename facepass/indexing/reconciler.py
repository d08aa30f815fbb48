"""The reconciler: the database says what remains to be done; it re-queues what was lost.

- 'indexing' photos whose worker stopped beating (crashed, killed) or that have been held
  longer than `stale_indexing_after_s` go back to 'pending' and are queued again;
- 'pending' photos older than a grace period are queued again when the queue is empty (their
  message was lost: an in-process queue that died with its process, a crashed producer);
- sessions whose re-index is complete are switched to their new model;
- sessions whose people regrouping was asked for long ago and never ran are nudged again.
Queue messages are only nudges, so duplicates cost a skipped claim, never a duplicate face.
One reconciler acts at a time across all processes (a PostgreSQL advisory lock).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.indexing.heartbeat import MISSED_BEATS_BEFORE_DEAD
from facepass.indexing.queue import IndexQueue
from facepass.indexing.reindex import complete_if_built
from facepass.locks import AdvisoryLock, try_lock
from facepass.observability.metrics import QUEUE_DEPTH
from facepass.photos.models import INDEXING, PENDING, IndexingWorker, Photo, SessionIndex

logger = logging.getLogger(__name__)

MAX_REQUEUE_PER_PASS = 5000
FORGET_WORKERS_AFTER_S = 86400.0


@dataclass
class ReconcileReport:
    """What one pass did."""

    ran: bool = False
    recovered: list[uuid.UUID] = field(default_factory=list)  # 'indexing' -> 'pending'
    requeued: list[uuid.UUID] = field(default_factory=list)  # 'pending' queued again
    sessions_switched: list[uuid.UUID] = field(default_factory=list)
    regroups_resent: list[uuid.UUID] = field(default_factory=list)  # people (lost messages)
    pending: int = 0


def _seconds(value: float) -> TextClause:
    return text(f"now() - make_interval(secs => {float(value)!r})")


def _recover_abandoned(db: Session, settings: Settings) -> list[uuid.UUID]:
    dead_after = settings.worker_heartbeat_s * MISSED_BEATS_BEFORE_DEAD
    alive = (
        select(IndexingWorker.id)
        .where(IndexingWorker.id == Photo.worker_id)
        .where(IndexingWorker.heartbeat_at > _seconds(dead_after))
        .exists()
    )
    rows = db.execute(
        update(Photo)
        .where(Photo.status == INDEXING)
        .where((Photo.updated_at < _seconds(settings.stale_indexing_after_s)) | ~alive)
        .values(status=PENDING, worker_id=None, updated_at=text("now()"))
        .returning(Photo.id)
    )
    return list(rows.scalars())


def _requeue_lost(db: Session, queue: IndexQueue, grace_s: float) -> list[uuid.UUID]:
    depth = queue.depth()
    if depth:
        return []  # messages are still waiting: nothing is known to be lost
    rows = db.execute(
        update(Photo)
        .where(
            Photo.id.in_(
                select(Photo.id)
                .where(Photo.status == PENDING, Photo.updated_at < _seconds(grace_s))
                .order_by(Photo.updated_at)
                .limit(MAX_REQUEUE_PER_PASS)
                .with_for_update(skip_locked=True)
            )
        )
        .values(updated_at=text("now()"))
        .returning(Photo.id)
    )
    return list(rows.scalars())


def reconcile_once(
    own_db: OwnDatabase,
    settings: Settings,
    queue: IndexQueue,
    *,
    pending_grace_s: float | None = None,
) -> ReconcileReport:
    """One reconciliation pass (skipped if another process is running one)."""
    grace = settings.reconcile_interval_s if pending_grace_s is None else pending_grace_s
    report = ReconcileReport()
    with own_db.session() as db:
        if not try_lock(db, AdvisoryLock.RECONCILER):
            return report
        report.ran = True
        report.recovered = _recover_abandoned(db, settings)
        report.requeued = _requeue_lost(db, queue, grace)
        building = db.execute(
            select(SessionIndex.session_id, SessionIndex.building_model_id).where(
                SessionIndex.building_model_id.is_not(None)
            )
        ).all()
        for session_id, model_id in building:
            if model_id and complete_if_built(db, session_id, model_id):
                report.sessions_switched.append(session_id)
        db.execute(
            delete(IndexingWorker).where(
                IndexingWorker.heartbeat_at < _seconds(FORGET_WORKERS_AFTER_S)
            )
        )
        report.pending = db.execute(
            select(func.count()).select_from(Photo).where(Photo.status == PENDING)
        ).scalar_one()
        # Queue after the rows are 'pending' again; a failed commit only costs duplicates.
        queue.enqueue(report.recovered + report.requeued)
    if queue.people is not None:
        report.regroups_resent = queue.people.resend_lost()
    QUEUE_DEPTH.set(report.pending)
    if report.recovered or report.requeued or report.sessions_switched:
        logger.info(
            "reconciled",
            extra={
                "recovered": len(report.recovered),
                "requeued": len(report.requeued),
                "sessions_switched": len(report.sessions_switched),
            },
        )
    return report


class Reconciler:
    """Runs `reconcile_once` now and every `interval_s` in a daemon thread."""

    def __init__(self, own_db: OwnDatabase, settings: Settings, queue: IndexQueue) -> None:
        self.own_db = own_db
        self.settings = settings
        self.queue = queue
        self.interval_s = settings.reconcile_interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="facepass-reconciler", daemon=True)

    def start(self) -> Reconciler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            try:
                reconcile_once(self.own_db, self.settings, self.queue)
            except Exception:
                logger.warning("reconcile pass failed", exc_info=True)
            if self._stop.wait(self.interval_s):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
