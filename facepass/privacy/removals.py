"""Removal review: every opt-out or studio removal is a `removals` row the studio can list and,
within FACEPASS_REMOVAL_REVIEW_DAYS, restore; after that window it is final.

Removal takes effect at once (the faces leave `faces`, so search, the people view, results
tokens and downloads stop showing them); the removed rows wait in `removed_faces` for the review
window, then the retention pass deletes them (`finalize_due`). A restore moves them back and
lifts the suppression, so a re-upload of the same bytes indexes the faces again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from facepass.errors import Conflict, NotFound
from facepass.photos.models import Face, Photo
from facepass.privacy.models import (
    FACE_COLUMNS,
    FaceSuppression,
    Removal,
    RemovedFace,
    RetentionMark,
)
from facepass.privacy.suppression import RemovalTicket

RemovalStatus = Literal["in_review", "restored", "final"]


def new_ticket(
    reason: str,
    actor: str,
    review_days: int,
    client_hash: str | None = None,
    now: datetime | None = None,
) -> RemovalTicket:
    """A removal about to happen, restorable for `review_days` from now."""
    moment = now or datetime.now(UTC)
    return RemovalTicket(
        id=uuid.uuid4(),
        reason=reason,
        actor=actor,
        review_until=moment + timedelta(days=review_days),
        client_hash=client_hash,
    )


def status_of(removal: Removal, now: datetime) -> RemovalStatus:
    if removal.restored_at is not None:
        return "restored"
    if removal.finalized_at is not None or removal.review_until <= now:
        return "final"
    return "in_review"


@dataclass(frozen=True, slots=True)
class RemovedBox:
    """One face a removal hid: the photo (None once deleted) and the face's box in it."""

    photo_id: uuid.UUID | None
    box: tuple[float, float, float, float]


def list_removals(
    db: Session, session_id: uuid.UUID, limit: int
) -> list[tuple[Removal, list[RemovedBox]]]:
    """The session's removals, newest first, each with the faces it hid."""
    removals = list(
        db.scalars(
            select(Removal)
            .where(Removal.session_id == session_id)
            .order_by(Removal.created_at.desc(), Removal.id)
            .limit(limit)
        )
    )
    return [(removal, removed_boxes(db, removal)) for removal in removals]


def removed_boxes(db: Session, removal: Removal) -> list[RemovedBox]:
    """The faces of one removal: from its suppressions (or, once restored, its audit counts)."""
    rows = db.execute(
        select(
            Photo.id,
            FaceSuppression.box_left,
            FaceSuppression.box_top,
            FaceSuppression.box_right,
            FaceSuppression.box_bottom,
        )
        .select_from(FaceSuppression)
        .outerjoin(
            Photo,
            (Photo.sha256 == FaceSuppression.photo_sha256)
            & (Photo.session_id == FaceSuppression.session_id),
        )
        .where(FaceSuppression.removal_id == removal.id)
        .order_by(FaceSuppression.id)
    ).all()
    return [RemovedBox(row[0], (row[1], row[2], row[3], row[4])) for row in rows]


def get_removal(db: Session, session_id: uuid.UUID, removal_id: uuid.UUID) -> Removal:
    removal = db.get(Removal, removal_id)
    if removal is None or removal.session_id != session_id:
        raise NotFound("No such removal in this session.", code="REMOVAL_NOT_FOUND")
    return removal


@dataclass(frozen=True, slots=True)
class Restored:
    removal: Removal
    boxes: list[RemovedBox]
    faces: int


def restore(
    db: Session,
    session_id: uuid.UUID,
    removal_id: uuid.UUID,
    actor: str,
    now: datetime | None = None,
) -> Restored:
    """Put a removal's faces back and lift its suppressions (in the caller's transaction).

    409 REMOVAL_RESTORED when done already, 409 REMOVAL_FINAL past the review window or after
    a retention pass purged the session's faces."""
    moment = now or datetime.now(UTC)
    removal = db.get(Removal, removal_id, with_for_update=True)
    if removal is None or removal.session_id != session_id:
        raise NotFound("No such removal in this session.", code="REMOVAL_NOT_FOUND")
    if removal.restored_at is not None:
        raise Conflict("This removal was restored already.", code="REMOVAL_RESTORED")
    if status_of(removal, moment) == "final" or db.get(RetentionMark, session_id) is not None:
        raise Conflict("This removal is past its review window and final.", code="REMOVAL_FINAL")
    boxes = removed_boxes(db, removal)
    photo_ids = sorted(
        set(db.scalars(select(RemovedFace.photo_id).where(RemovedFace.removal_id == removal.id)))
    )
    # The photos' locks serialise with indexing's `finish`, as suppression does.
    if photo_ids:
        db.execute(
            select(Photo.id).where(Photo.id.in_(photo_ids)).order_by(Photo.id).with_for_update()
        ).all()
    db.execute(delete(FaceSuppression).where(FaceSuppression.removal_id == removal.id))
    restored = db.execute(
        insert(Face)
        .from_select(
            list(FACE_COLUMNS),
            select(*(getattr(RemovedFace, name) for name in FACE_COLUMNS)).where(
                RemovedFace.removal_id == removal.id
            ),
        )
        .returning(Face.id)
    ).all()
    db.execute(delete(RemovedFace).where(RemovedFace.removal_id == removal.id))
    if photo_ids:
        remaining = (
            select(func.count())
            .where(Face.photo_id == Photo.id, Face.model_id == Photo.model_id)
            .scalar_subquery()
        )
        db.execute(update(Photo).where(Photo.id.in_(photo_ids)).values(face_count=remaining))
    removal.restored_at = moment
    removal.restored_by = actor
    db.flush()
    return Restored(removal, boxes, len(restored))


def finalize_due(db: Session, now: datetime, dry_run: bool = False) -> int:
    """Removals whose review window closed: their kept faces are deleted; they stay listed."""
    due = select(Removal.id).where(
        Removal.review_until <= now,
        Removal.restored_at.is_(None),
        Removal.finalized_at.is_(None),
    )
    if dry_run:
        return int(db.execute(select(func.count()).select_from(due.subquery())).scalar_one())
    ids = list(db.scalars(due.with_for_update(skip_locked=True)))
    if ids:
        db.execute(delete(RemovedFace).where(RemovedFace.removal_id.in_(ids)))
        db.execute(update(Removal).where(Removal.id.in_(ids)).values(finalized_at=now))
    return len(ids)
