"""Retention: faces and embeddings go N days after the session's Pixora `completed_at`
(FACEPASS_FACE_RETENTION_DAYS), photos and thumbnails after M days if set
(FACEPASS_PHOTO_RETENTION_DAYS), and everything of a session whose FacePass is switched off
(or that left Pixora) N days after the periodic sync first saw it off or gone.

The periodic sync worker runs a pass every FACEPASS_RETENTION_INTERVAL_S; `facepass purge
--dry-run` shows what a pass would delete. One pass at a time across processes (advisory lock).
Each purge is logged, counted in metrics and written to the audit log (actor "retention").
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import any_, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session
from sqlalchemy.types import Uuid

from facepass.access import audit
from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.locks import AdvisoryLock, try_lock
from facepass.observability.metrics import RETENTION_PURGED
from facepass.photos.models import Face, Photo
from facepass.photos.service import delete_session_photos
from facepass.photos.storage import PhotoStorage
from facepass.pixora.database import PixoraDatabase
from facepass.pixora.errors import pixora_errors
from facepass.pixora.models import PhotoSession
from facepass.privacy.models import RemovedFace, RetentionMark
from facepass.privacy.removals import finalize_due
from facepass.sync.models import SessionSnapshot

logger = logging.getLogger(__name__)

_CHUNK = 1000
Kind = Literal["faces", "photos", "session"]

_table = PhotoSession.__table__
_READ = select(
    _table.c.id, _table.c.facepass_enabled, _table.c.completed_at, _table.c.updated_at
).where(_table.c.id == any_(bindparam("ids", type_=ARRAY(Uuid()))))


@dataclass(frozen=True, slots=True)
class Due:
    """One session's data that a pass deletes, and why."""

    session_id: uuid.UUID
    kind: Kind  # faces only; photos (and faces); or the whole session (FacePass off/gone)
    reason: str
    since: datetime  # the moment the retention period started
    faces: int
    photos: int


@dataclass
class Plan:
    """What is due, and the retention marks no longer deserved (completed_at moved)."""

    due: list[Due] = field(default_factory=list)
    stale_marks: list[uuid.UUID] = field(default_factory=list)


@dataclass
class PurgeReport:
    """What a pass deleted (or, dry-run, would delete)."""

    dry_run: bool
    ran: bool = True
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    due: list[Due] = field(default_factory=list)
    removals_finalized: int = 0  # removals whose review window closed in this pass

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ran": self.ran,
            "now": self.now.isoformat(),
            "sessions": len(self.due),
            "faces": sum(d.faces for d in self.due),
            "photos": sum(d.photos for d in self.due if d.kind != "faces"),
            "removals_finalized": self.removals_finalized,
            "due": [
                {**asdict(d), "session_id": str(d.session_id), "since": d.since.isoformat()}
                for d in self.due
            ],
        }


def _held(db: Session, session_ids: Sequence[uuid.UUID] | None) -> dict[uuid.UUID, list[int]]:
    """Sessions FacePass holds data for: [faces, photos] each."""
    held: dict[uuid.UUID, list[int]] = {}
    for model, slot in ((Face, 0), (Photo, 1)):
        query = select(model.session_id, func.count()).group_by(model.session_id)
        if session_ids is not None:
            query = query.where(model.session_id.in_(list(session_ids)))
        for session_id, count in db.execute(query):
            held.setdefault(session_id, [0, 0])[slot] = int(count)
    return held


def _read_pixora(pixora: PixoraDatabase, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    found: dict[uuid.UUID, Any] = {}
    with pixora_errors(), pixora.engine.connect() as conn:
        for start in range(0, len(ids), _CHUNK):
            for row in conn.execute(_READ, {"ids": ids[start : start + _CHUNK]}):
                found[row.id] = row
    return found


def _switched_off_since(snapshot: Any) -> datetime | None:
    """When the sync first saw the session off or gone (None: it has not, so nothing is due)."""
    if snapshot is not None and not (snapshot.present and snapshot.facepass_enabled):
        return snapshot.changed_at  # type: ignore[no-any-return]
    return None


def plan(
    own_db: OwnDatabase,
    pixora: PixoraDatabase,
    settings: Settings,
    now: datetime,
    session_ids: Sequence[uuid.UUID] | None = None,
) -> Plan:
    """What is due now (nothing is deleted)."""
    face_days = timedelta(days=settings.face_retention_days)
    photo_days = (
        None
        if settings.photo_retention_days is None
        else timedelta(days=settings.photo_retention_days)
    )
    with own_db.sessions() as db:
        held = _held(db, session_ids)
        snapshots = {
            s.session_id: s
            for s in db.scalars(
                select(SessionSnapshot).where(SessionSnapshot.session_id.in_(list(held)))
            )
        }
        marked = set(
            db.scalars(
                select(RetentionMark.session_id).where(RetentionMark.session_id.in_(list(held)))
            )
        )
    found = _read_pixora(pixora, list(held)) if held else {}
    result = Plan()
    due = result.due
    for session_id, (faces, photos) in held.items():
        row = found.get(session_id)
        if row is None or not row.facepass_enabled:
            since = _switched_off_since(snapshots.get(session_id))
            if since is not None and since + face_days <= now:
                reason = "facepass_off" if row is not None else "gone_from_pixora"
                due.append(Due(session_id, "session", reason, since, faces, photos))
                continue
        completed = None if row is None else row.completed_at
        if session_id in marked and (completed is None or completed + face_days > now):
            result.stale_marks.append(session_id)
        if completed is None:
            continue
        if photo_days is not None and photos and completed + photo_days <= now:
            due.append(Due(session_id, "photos", "photo_retention", completed, faces, photos))
        elif faces and completed + face_days <= now:
            due.append(Due(session_id, "faces", "face_retention", completed, faces, 0))
    return result


def _purge_faces(own_db: OwnDatabase, session_id: uuid.UUID) -> int:
    with own_db.session() as db:
        # The mark, then the photos' locks: an indexing pass finishing a photo (it holds the
        # photo's lock) commits first and its faces are deleted here; any later one sees the mark.
        db.execute(insert(RetentionMark).values(session_id=session_id).on_conflict_do_nothing())
        db.execute(select(Photo.id).where(Photo.session_id == session_id).with_for_update()).all()
        deleted = db.execute(
            delete(Face).where(Face.session_id == session_id).returning(Face.id)
        ).all()
        # Faces held for a removal's review go too: past retention, nothing can restore them.
        db.execute(delete(RemovedFace).where(RemovedFace.session_id == session_id))
        db.execute(update(Photo).where(Photo.session_id == session_id).values(face_count=0))
    return len(deleted)


def purge(
    own_db: OwnDatabase,
    pixora: PixoraDatabase,
    storage: PhotoStorage,
    settings: Settings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    session_ids: Sequence[uuid.UUID] | None = None,
) -> PurgeReport:
    """Run one retention pass (or, dry-run, only say what it would delete)."""
    report = PurgeReport(dry_run=dry_run, now=now or datetime.now(UTC))
    if dry_run:
        report.due = plan(own_db, pixora, settings, report.now, session_ids).due
        with own_db.sessions() as db:
            report.removals_finalized = finalize_due(db, report.now, dry_run=True)
        return report
    # The lock's transaction stays open for the pass; the deletions commit on their own.
    with own_db.engine.begin() as lock_conn:
        if not try_lock(lock_conn, AdvisoryLock.RETENTION):
            report.ran = False
            return report
        planned = plan(own_db, pixora, settings, report.now, session_ids)
        report.due = planned.due
        for item in report.due:
            _apply(own_db, storage, item)
        with own_db.session() as db:
            # Removals past their review window: final, and their kept faces deleted.
            report.removals_finalized = finalize_due(db, report.now)
        if planned.stale_marks:
            with own_db.session() as db:
                db.execute(
                    delete(RetentionMark).where(RetentionMark.session_id.in_(planned.stale_marks))
                )
    return report


def _apply(own_db: OwnDatabase, storage: PhotoStorage, item: Due) -> None:
    if item.kind == "faces":
        faces, photos = _purge_faces(own_db, item.session_id), 0
    else:
        if item.kind == "photos":
            _purge_faces(own_db, item.session_id)  # leaves the retention mark
        deleted = delete_session_photos(own_db, storage, item.session_id)
        faces, photos = item.faces, deleted.deleted_photos
    RETENTION_PURGED.labels("faces").inc(faces)
    RETENTION_PURGED.labels("photos").inc(photos)
    if item.kind == "session":
        RETENTION_PURGED.labels("sessions").inc()
    counts = {"faces": faces, "photos": photos, "kind": item.kind, "reason": item.reason}
    with own_db.session() as db:
        audit.record(
            db, actor=audit.RETENTION, action="purge", session_id=item.session_id, counts=counts
        )
    logger.info(
        "retention purge",
        extra={"session_id": str(item.session_id), "since": item.since.isoformat(), **counts},
    )
