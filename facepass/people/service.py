"""Reading a session's people for the admin endpoints (counts from the live assignments)."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, text

from facepass.errors import NotFound
from facepass.guest.signing import MediaSigner
from facepass.people.schemas import (
    CoverFace,
    PeoplePage,
    PersonFace,
    PersonFaces,
    PersonOut,
    PersonPhotos,
)
from facepass.people.store import PIN_OF_FACE

_PEOPLE = text(
    """
    WITH counts AS (
        SELECT person_id, count(*) AS faces, count(DISTINCT photo_id) AS photos
        FROM person_faces WHERE session_id = :s GROUP BY person_id
    )
    SELECT p.id, p.name, c.faces, c.photos, count(*) OVER () AS total,
           f.id AS face_id, f.photo_id, f.box_left, f.box_top, f.box_right, f.box_bottom,
           ph.width, ph.height
    FROM counts c
    JOIN people p ON p.id = c.person_id
    -- The cover, or (its face deleted since the grouping) the person's first remaining face.
    LEFT JOIN LATERAL (
        SELECT coalesce(p.cover_face_id, min(face_id)) AS face_id
        FROM person_faces WHERE person_id = p.id
    ) cover ON true
    LEFT JOIN faces f ON f.id = cover.face_id
    LEFT JOIN photos ph ON ph.id = f.photo_id
    WHERE c.faces >= :min_faces
    ORDER BY c.faces DESC, c.photos DESC, p.id
    LIMIT :limit OFFSET :offset
    """
)
_STATE = text("SELECT model_id, grouped_at FROM people_groupings WHERE session_id = :s")
_COUNT = text(
    """
    SELECT count(*) FROM (
        SELECT 1 FROM person_faces WHERE session_id = :s GROUP BY person_id
        HAVING count(*) >= :min_faces
    ) AS enough
    """
)
_PERSON = text("SELECT 1 FROM people WHERE id = :p AND session_id = :s")
_PHOTOS = text(
    """
    SELECT pf.photo_id, count(*) OVER () AS total
    FROM person_faces pf JOIN photos ph ON ph.id = pf.photo_id
    WHERE pf.person_id = :p
    ORDER BY ph.captured_at NULLS LAST, ph.created_at, pf.photo_id
    LIMIT :limit OFFSET :offset
    """
)
_PHOTO_COUNT = text("SELECT count(*) FROM person_faces WHERE person_id = :p")


def list_people(
    conn: Connection,
    signer: MediaSigner,
    session_id: uuid.UUID,
    *,
    min_faces: int,
    limit: int,
    offset: int,
) -> PeoplePage:
    """A page of the session's people, most faces first, each with a signed cover link."""
    params = {"s": session_id, "min_faces": min_faces, "limit": limit, "offset": offset}
    rows = conn.execute(_PEOPLE, params).all()
    # The total rides on the page's own rows (one snapshot). Only a page past the end needs a
    # second count; an empty first page means no people, even if a regrouping commits meanwhile.
    if rows:
        total = int(rows[0].total)
    elif offset == 0:
        total = 0
    else:
        total = int(conn.execute(_COUNT, params).scalar_one())
    state = conn.execute(_STATE, {"s": session_id}).one_or_none()
    expires_at = signer.expiry()
    people = []
    for row in rows:
        cover = None
        if row.face_id is not None:
            cover = CoverFace(
                face_id=row.face_id,
                photo_id=row.photo_id,
                thumb_url=signer.media_path(row.photo_id, "thumb", expires_at),
                box=[
                    round(v, 1) for v in (row.box_left, row.box_top, row.box_right, row.box_bottom)
                ],
                photo_width=row.width,
                photo_height=row.height,
            )
        people.append(
            PersonOut(
                id=row.id,
                name=row.name,
                face_count=row.faces,
                photo_count=row.photos,
                cover=cover,
            )
        )
    return PeoplePage(
        session_id=session_id,
        model_id=state.model_id if state else None,
        grouped_at=state.grouped_at if state else None,
        total=total,
        limit=limit,
        offset=offset,
        expires_at=expires_at,
        people=people,
    )


def person_photos(
    conn: Connection, session_id: uuid.UUID, person_id: uuid.UUID, *, limit: int, offset: int
) -> PersonPhotos:
    """A page of the photos of one person of the session; 404 PERSON_NOT_FOUND otherwise."""
    if conn.execute(_PERSON, {"p": person_id, "s": session_id}).first() is None:
        raise NotFound("No such person in this session.", code="PERSON_NOT_FOUND")
    rows = conn.execute(_PHOTOS, {"p": person_id, "limit": limit, "offset": offset}).all()
    total = (
        rows[0].total if rows else int(conn.execute(_PHOTO_COUNT, {"p": person_id}).scalar_one())
    )
    return PersonPhotos(
        session_id=session_id,
        person_id=person_id,
        total=total,
        limit=limit,
        offset=offset,
        photo_ids=[row.photo_id for row in rows],
    )


_FACES = text(
    f"""
    SELECT f.id, f.photo_id, f.box_left, f.box_top, f.box_right, f.box_bottom,
           ph.width, ph.height, pf.core, pin.person_id IS NOT NULL AS pinned,
           count(*) OVER () AS total
    FROM person_faces pf JOIN faces f ON f.id = pf.face_id JOIN photos ph ON ph.id = f.photo_id
    LEFT JOIN LATERAL ({PIN_OF_FACE}) pin ON true
    WHERE pf.person_id = :p
    ORDER BY pf.core DESC, pf.support DESC, f.id
    LIMIT :limit OFFSET :offset
    """  # noqa: S608 - a constant is interpolated
)


def person_faces(
    conn: Connection,
    signer: MediaSigner,
    session_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
) -> PersonFaces:
    """A page of one person's faces (most typical first), each on a signed thumbnail link."""
    person = conn.execute(
        text("SELECT name FROM people WHERE id = :p AND session_id = :s"),
        {"p": person_id, "s": session_id},
    ).one_or_none()
    if person is None:
        raise NotFound("No such person in this session.", code="PERSON_NOT_FOUND")
    rows = conn.execute(_FACES, {"p": person_id, "limit": limit, "offset": offset}).all()
    total = (
        rows[0].total if rows else int(conn.execute(_PHOTO_COUNT, {"p": person_id}).scalar_one())
    )
    expires_at = signer.expiry()
    return PersonFaces(
        session_id=session_id,
        person_id=person_id,
        name=person.name,
        total=total,
        limit=limit,
        offset=offset,
        expires_at=expires_at,
        faces=[
            PersonFace(
                face_id=row.id,
                photo_id=row.photo_id,
                thumb_url=signer.media_path(row.photo_id, "thumb", expires_at),
                box=[
                    round(v, 1) for v in (row.box_left, row.box_top, row.box_right, row.box_bottom)
                ],
                photo_width=row.width,
                photo_height=row.height,
                core=row.core,
                pinned=row.pinned,
            )
            for row in rows
        ],
    )
