"""Suppressing faces: record them by photo content and geometry, delete their rows and
embeddings (every model's), and keep indexing from ever writing them again.

A face matches a suppression when its box overlaps the suppressed box by at least
`MIN_OVERLAP` (intersection over union): another model, or another decode of the same bytes,
finds the same face a few pixels apart.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from facepass.observability.metrics import PRIVACY_REMOVALS
from facepass.people.models import Person, PersonFace
from facepass.photos.models import Face, Photo
from facepass.privacy.models import (
    FACE_COLUMNS,
    FaceSuppression,
    Removal,
    RemovedFace,
    RetentionMark,
)

MIN_OVERLAP = 0.5

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class RemovalTicket:
    """The removal a suppression belongs to: its row is written with the first face hidden."""

    id: uuid.UUID
    reason: str
    actor: str
    review_until: datetime
    client_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Suppressed:
    """What one suppression did: faces hidden (one per person-face) in how many photos."""

    faces: int
    photos: int


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two (left, top, right, bottom) boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _matches(box: Box, suppressed: Iterable[Box]) -> bool:
    return any(overlap(box, s) >= MIN_OVERLAP for s in suppressed)


def suppress_faces(
    db: Session, session_id: uuid.UUID, face_ids: Sequence[int], removal: RemovalTicket
) -> Suppressed:
    """Hide these faces of the session (in the caller's transaction), as part of `removal`:
    their rows move to `removed_faces` until the removal is restored or made final."""
    reason = removal.reason
    if not face_ids:
        return Suppressed(0, 0)
    targets = db.execute(
        select(Face.photo_id, Face.box_left, Face.box_top, Face.box_right, Face.box_bottom)
        .where(Face.id.in_(list(face_ids)), Face.session_id == session_id)
        .order_by(Face.photo_id)
    ).all()
    if not targets:
        return Suppressed(0, 0)
    photo_ids = sorted({row.photo_id for row in targets})
    # The photo rows' locks serialise with indexing's `finish` (which locks its photo): a face
    # is either written before this deletes it, or written after, through the filter.
    hashes = dict(
        db.execute(
            select(Photo.id, Photo.sha256)
            .where(Photo.id.in_(photo_ids))
            .order_by(Photo.id)
            .with_for_update()
        ).all()
    )
    boxes: dict[uuid.UUID, list[Box]] = {}
    for row in targets:
        if row.photo_id in hashes:
            box = (row.box_left, row.box_top, row.box_right, row.box_bottom)
            boxes.setdefault(row.photo_id, []).append(box)
    if not boxes:
        return Suppressed(0, 0)
    faces = sum(len(b) for b in boxes.values())
    _count_in_removal(db, session_id, removal, faces, len(boxes))
    db.execute(
        insert(FaceSuppression),
        [
            {
                "session_id": session_id,
                "photo_sha256": hashes[photo_id],
                "box_left": box[0],
                "box_top": box[1],
                "box_right": box[2],
                "box_bottom": box[3],
                "reason": reason,
                "removal_id": removal.id,
            }
            for photo_id, photo_boxes in boxes.items()
            for box in photo_boxes
        ],
    )
    _delete_matching_faces(db, boxes, removal.id)
    PRIVACY_REMOVALS.labels(reason).inc(faces)
    return Suppressed(faces, len(boxes))


def _count_in_removal(
    db: Session, session_id: uuid.UUID, removal: RemovalTicket, faces: int, photos: int
) -> None:
    """Write the removal's row, or add to it (an opt-out suppresses in several passes)."""
    statement = pg_insert(Removal).values(
        id=removal.id,
        session_id=session_id,
        reason=removal.reason,
        actor=removal.actor,
        client_hash=removal.client_hash,
        faces=faces,
        photos=photos,
        review_until=removal.review_until,
    )
    table = Removal.__table__
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={
                "faces": table.c.faces + statement.excluded.faces,
                "photos": table.c.photos + statement.excluded.photos,
            },
        )
    )


def _delete_matching_faces(
    db: Session, boxes: dict[uuid.UUID, list[Box]], removal_id: uuid.UUID
) -> None:
    """Move every model's row of the suppressed faces to `removed_faces`, then recount the
    photos' faces."""
    faces = db.execute(
        select(
            Face.id, Face.photo_id, Face.box_left, Face.box_top, Face.box_right, Face.box_bottom
        ).where(Face.photo_id.in_(list(boxes)))
    ).all()
    doomed = [
        face.id
        for face in faces
        if _matches(
            (face.box_left, face.box_top, face.box_right, face.box_bottom), boxes[face.photo_id]
        )
    ]
    if doomed:
        # A person holding a suppressed face goes too: its centroid was computed from the face.
        # Its other faces wait, ungrouped, for the session's next regrouping.
        db.execute(
            delete(Person).where(
                Person.id.in_(select(PersonFace.person_id).where(PersonFace.face_id.in_(doomed)))
            )
        )
        db.execute(
            insert(RemovedFace).from_select(
                ["removal_id", *FACE_COLUMNS],
                select(
                    literal(removal_id, type_=RemovedFace.removal_id.type),
                    *(getattr(Face, name) for name in FACE_COLUMNS),
                ).where(Face.id.in_(doomed)),
            )
        )
        db.execute(delete(Face).where(Face.id.in_(doomed)))
    remaining = (
        select(func.count())
        .where(Face.photo_id == Photo.id, Face.model_id == Photo.model_id)
        .scalar_subquery()
    )
    db.execute(update(Photo).where(Photo.id.in_(list(boxes))).values(face_count=remaining))


def person_face_ids(db: Session, session_id: uuid.UUID, person_id: uuid.UUID) -> list[int]:
    """The faces of one person of the session (the people view's group)."""
    return list(
        db.scalars(
            select(PersonFace.face_id).where(
                PersonFace.person_id == person_id, PersonFace.session_id == session_id
            )
        )
    )


def faces_to_write(
    db: Session, session_id: uuid.UUID, photo_sha256: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Indexing's filter: none for a session past its face retention, else the unsuppressed."""
    if db.get(RetentionMark, session_id) is not None:
        return []
    return drop_suppressed(db, session_id, photo_sha256, rows)


def drop_suppressed(
    db: Session, session_id: uuid.UUID, photo_sha256: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Indexing's filter: the face rows of a photo minus those suppressed in this session."""
    suppressed = [
        (row.box_left, row.box_top, row.box_right, row.box_bottom)
        for row in db.execute(
            select(
                FaceSuppression.box_left,
                FaceSuppression.box_top,
                FaceSuppression.box_right,
                FaceSuppression.box_bottom,
            ).where(
                FaceSuppression.session_id == session_id,
                FaceSuppression.photo_sha256 == photo_sha256,
            )
        )
    ]
    if not suppressed:
        return rows
    return [
        row
        for row in rows
        if not _matches(
            (row["box_left"], row["box_top"], row["box_right"], row["box_bottom"]), suppressed
        )
    ]


def suppression_count(db: Session, session_id: uuid.UUID) -> int:
    """How many faces of the session are suppressed."""
    return int(
        db.execute(
            select(func.count()).where(FaceSuppression.session_id == session_id)
        ).scalar_one()
    )


def suppressed_boxes(
    conn: Connection, session_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Box]]:
    """The suppressed face boxes of these photos of the session, by photo id."""
    if not photo_ids:
        return {}
    rows = conn.execute(
        select(
            Photo.id,
            FaceSuppression.box_left,
            FaceSuppression.box_top,
            FaceSuppression.box_right,
            FaceSuppression.box_bottom,
        )
        .select_from(FaceSuppression)
        .join(
            Photo,
            (Photo.sha256 == FaceSuppression.photo_sha256)
            & (Photo.session_id == FaceSuppression.session_id),
        )
        .where(FaceSuppression.session_id == session_id, Photo.id.in_(list(photo_ids)))
    )
    found: dict[uuid.UUID, list[Box]] = {}
    for row in rows:
        found.setdefault(row[0], []).append((row[1], row[2], row[3], row[4]))
    return found


def is_suppressed(box: Box, suppressed: Iterable[Box]) -> bool:
    """Whether a face box is one of the suppressed ones (by overlap, as indexing decides)."""
    return _matches(box, suppressed)


def photos_with_removals_since(
    conn: Connection, photo_ids: Sequence[uuid.UUID], since: datetime
) -> set[uuid.UUID]:
    """Photos with a face suppressed at or after `since`: a link signed before that moment
    may have been handed out for that face, so it serves the photo no more."""
    if not photo_ids:
        return set()
    rows = conn.execute(
        select(Photo.id)
        .select_from(FaceSuppression)
        .join(
            Photo,
            (Photo.sha256 == FaceSuppression.photo_sha256)
            & (Photo.session_id == FaceSuppression.session_id),
        )
        .where(Photo.id.in_(list(photo_ids)), FaceSuppression.created_at >= since)
        .distinct()
    )
    return {row[0] for row in rows}
