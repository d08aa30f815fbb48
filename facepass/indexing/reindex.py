"""Re-indexing a session with a new model while searches keep using the old one.

`start_reindex` records the model being built and puts the session's indexed photos back to
'pending' (their old faces stay). Workers running the new model add its faces photo by photo;
when none is left, `complete_if_built` switches `active_model_id` and deletes the old faces,
in one transaction, so a search sees either the complete old index or the complete new one.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import delete, func, or_, select, text, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from facepass.photos.models import INDEXED, INDEXING, PENDING, Face, Photo, SessionIndex

logger = logging.getLogger(__name__)


def sessions_with_photos(db: Session) -> list[uuid.UUID]:
    """Every session with photos, oldest first."""
    rows = db.execute(
        select(Photo.session_id).group_by(Photo.session_id).order_by(func.min(Photo.created_at))
    )
    return list(rows.scalars())


def sessions_needing_model(db: Session, model_id: str) -> list[uuid.UUID]:
    """Sessions with photos whose searches do not use `model_id` yet (oldest first)."""
    indexed = (
        select(Photo.session_id, func.min(Photo.created_at).label("first"))
        .group_by(Photo.session_id)
        .subquery()
    )
    rows = db.execute(
        select(indexed.c.session_id)
        .outerjoin(SessionIndex, SessionIndex.session_id == indexed.c.session_id)
        .where(
            or_(
                SessionIndex.active_model_id.is_(None),
                SessionIndex.active_model_id != model_id,
                SessionIndex.building_model_id.is_not(None),
            )
        )
        .order_by(indexed.c.first)
    )
    return list(rows.scalars())


def start_reindex(
    db: Session, session_id: uuid.UUID, model_id: str, *, every_photo: bool = False
) -> list[uuid.UUID]:
    """Mark a session to be rebuilt with `model_id`; returns the photo ids to queue.

    `every_photo` also re-queues photos this model already indexed: the model (its vectors)
    is the same, but how faces are found changed (e.g. the close pass, turned faces indexed),
    so each photo's faces are replaced in place as it is done, with no switch of index.
    """
    db.execute(
        pg_insert(SessionIndex)
        .values(session_id=session_id, active_model_id=model_id)
        .on_conflict_do_nothing()
    )
    index = db.execute(
        select(SessionIndex).where(SessionIndex.session_id == session_id).with_for_update()
    ).scalar_one()
    if index.active_model_id != model_id:
        index.building_model_id = model_id
    else:
        index.building_model_id = None
    photo_ids = list(
        db.execute(
            update(Photo)
            .where(
                Photo.session_id == session_id,
                Photo.status == INDEXED,
                true() if every_photo else Photo.model_id.is_distinct_from(model_id),
            )
            .values(status=PENDING, attempts=0, worker_id=None, updated_at=text("now()"))
            .returning(Photo.id)
        ).scalars()
    )
    # Photos already waiting are indexed by the new model anyway; queue them too.
    photo_ids += db.execute(
        select(Photo.id).where(
            Photo.session_id == session_id, Photo.status == PENDING, Photo.id.not_in(photo_ids)
        )
    ).scalars()
    logger.info(
        "re-index started",
        extra={"session_id": str(session_id), "model_id": model_id, "photos": len(photo_ids)},
    )
    return photo_ids


def complete_if_built(db: Session, session_id: uuid.UUID, model_id: str) -> bool:
    """Switch the session to `model_id` if every photo has been indexed by it; True if so."""
    index = db.execute(
        select(SessionIndex).where(SessionIndex.session_id == session_id).with_for_update()
    ).scalar_one_or_none()
    if index is None or index.building_model_id != model_id:
        return False
    remaining = db.execute(
        select(func.count())
        .select_from(Photo)
        .where(Photo.session_id == session_id)
        .where(
            or_(
                Photo.status.in_((PENDING, INDEXING)),
                (Photo.status == INDEXED) & Photo.model_id.is_distinct_from(model_id),
            )
        )
    ).scalar_one()
    if remaining:
        return False
    index.active_model_id = model_id
    index.building_model_id = None
    removed = db.execute(
        delete(Face).where(Face.session_id == session_id, Face.model_id != model_id)
    ).rowcount  # type: ignore[attr-defined]
    logger.info(
        "session switched to new model",
        extra={"session_id": str(session_id), "model_id": model_id, "old_faces_removed": removed},
    )
    return True
