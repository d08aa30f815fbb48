"""A studio's decisions on a session's people: merge two, split faces out, name one.

Each decision changes the live people at once (what the admin endpoints and search read) and
pins the faces involved (`person_pins`, see people/models.py), so no later regrouping or
re-index undoes it: merging pins both people's faces to the survivor (must-link), splitting
pins the faces taken out to the new person and the rest to the old one (cannot-link between
the two), naming pins the person's faces so the name stays with them. A decision waits for a
regrouping of the session in progress (the same advisory lock), so the two never interleave.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Row, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Uuid

from facepass.errors import Conflict, NotFound
from facepass.locks import AdvisoryLock, wait_for_lock_for
from facepass.people.schemas import PersonSummary

MAX_SPLIT_FACES = 10_000

_PERSON = text(
    "SELECT id, model_id, name, cover_face_id FROM people WHERE id = :p AND session_id = :s"
)
# Pin these grouped faces (by photo and box) to :person, replacing any earlier pin.
_PIN = text(
    """
    INSERT INTO person_pins AS pp
        (session_id, photo_id, box_left, box_top, box_right, box_bottom, person_id)
    SELECT f.session_id, f.photo_id, f.box_left, f.box_top, f.box_right, f.box_bottom,
           CAST(:person AS uuid)
    FROM person_faces pf JOIN faces f ON f.id = pf.face_id
    WHERE pf.person_id = ANY(:people)
      AND (NOT CAST(:only_faces AS boolean) OR pf.face_id = ANY(:faces))
    ON CONFLICT (photo_id, box_left, box_top, box_right, box_bottom)
    DO UPDATE SET person_id = excluded.person_id, pinned_at = now()
    """
).bindparams(
    bindparam("people", type_=ARRAY(Uuid())),
    bindparam("faces", type_=ARRAY(BigInteger())),
)
_CORE_VECTORS = text(
    """
    SELECT f.embedding::text AS vector, pf.core
    FROM person_faces pf JOIN faces f ON f.id = pf.face_id
    WHERE pf.person_id = :p AND f.embedding IS NOT NULL
    """
)
_SUMMARY = text(
    """
    SELECT p.id, p.name, count(pf.face_id) AS faces, count(DISTINCT pf.photo_id) AS photos
    FROM people p LEFT JOIN person_faces pf ON pf.person_id = p.id
    WHERE p.id = :p GROUP BY p.id
    """
)


def _lock(conn: Connection, session_id: uuid.UUID) -> None:
    wait_for_lock_for(conn, AdvisoryLock.PEOPLE, str(session_id))


def _person(conn: Connection, session_id: uuid.UUID, person_id: uuid.UUID) -> Row[Any]:
    row = conn.execute(_PERSON, {"p": person_id, "s": session_id}).one_or_none()
    if row is None:
        raise NotFound("No such person in this session.", code="PERSON_NOT_FOUND")
    return row


def _pin(
    conn: Connection,
    people: Sequence[uuid.UUID],
    person: uuid.UUID,
    faces: Sequence[int] | None = None,
) -> None:
    conn.execute(
        _PIN,
        {
            "people": list(people),
            "person": person,
            "only_faces": faces is not None,
            "faces": list(faces or []),
        },
    )


def _parse(raw: str) -> npt.NDArray[np.float64]:
    return np.array([float(x) for x in raw.strip("[]").split(",")], np.float64)


def refresh_person(conn: Connection, person_id: uuid.UUID) -> None:
    """Recompute a person's centroid (unit mean of its core faces, else of all) and, if its
    cover left it, its cover."""
    rows = conn.execute(_CORE_VECTORS, {"p": person_id}).all()
    if rows:
        chosen = [r for r in rows if r.core] or rows
        mean = np.mean([_parse(r.vector) for r in chosen], axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        centroid = "[" + ",".join(f"{x:.7g}" for x in mean) + "]"
        conn.execute(
            text(
                "UPDATE people SET centroid = CAST(:c AS vector), updated_at = now() WHERE id = :p"
            ),
            {"c": centroid, "p": person_id},
        )
    conn.execute(
        text(
            """
            UPDATE people p SET cover_face_id = (
                SELECT face_id FROM person_faces WHERE person_id = p.id
                ORDER BY core DESC, support DESC, face_id LIMIT 1)
            WHERE p.id = :p AND (p.cover_face_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM person_faces WHERE person_id = p.id AND face_id = p.cover_face_id))
            """
        ),
        {"p": person_id},
    )


def summary(conn: Connection, person_id: uuid.UUID) -> PersonSummary:
    row = conn.execute(_SUMMARY, {"p": person_id}).one()
    return PersonSummary(id=row.id, name=row.name, face_count=row.faces, photo_count=row.photos)


def merge(
    conn: Connection, session_id: uuid.UUID, person_id: uuid.UUID, into: uuid.UUID
) -> PersonSummary:
    """`person_id`'s faces join `into` for good; `person_id` is gone. Call in a transaction."""
    if person_id == into:
        raise Conflict("A person cannot be merged into itself.", code="SAME_PERSON")
    _lock(conn, session_id)
    source = _person(conn, session_id, person_id)
    target = _person(conn, session_id, into)
    _pin(conn, [person_id, into], into)
    # Pins of the merged person's faces not grouped right now (e.g. removed, to be restored).
    conn.execute(
        text("UPDATE person_pins SET person_id = :into WHERE person_id = :p"),
        {"into": into, "p": person_id},
    )
    conn.execute(
        text("UPDATE person_faces SET person_id = :into WHERE person_id = :p"),
        {"into": into, "p": person_id},
    )
    if target.name is None and source.name is not None:
        conn.execute(
            text("UPDATE people SET name = :n WHERE id = :p"),
            {"n": source.name, "p": into},
        )
    conn.execute(text("DELETE FROM people WHERE id = :p"), {"p": person_id})
    refresh_person(conn, into)
    return summary(conn, into)


def split(
    conn: Connection, session_id: uuid.UUID, person_id: uuid.UUID, face_ids: Sequence[int]
) -> PersonSummary:
    """These faces of the person become a new person, kept apart from the rest for good."""
    wanted = sorted(set(face_ids))
    _lock(conn, session_id)
    person = _person(conn, session_id, person_id)
    members = set(
        conn.execute(
            text("SELECT face_id FROM person_faces WHERE person_id = :p"), {"p": person_id}
        ).scalars()
    )
    strangers = [f for f in wanted if f not in members]
    if strangers:
        raise Conflict(
            f"Faces {strangers[:5]} are not faces of this person.", code="FACE_NOT_OF_PERSON"
        )
    if len(wanted) == len(members):
        raise Conflict(
            "Splitting every face out leaves the person as it is; keep at least one.",
            code="SPLIT_ALL_FACES",
        )
    new_id = uuid.uuid4()
    conn.execute(
        text("INSERT INTO people (id, session_id, model_id) VALUES (:id, :s, :m)"),
        {"id": new_id, "s": session_id, "m": person.model_id},
    )
    _pin(conn, [person_id], new_id, wanted)
    rest = sorted(members - set(wanted))
    _pin(conn, [person_id], person_id, rest)
    conn.execute(
        text(
            "UPDATE person_faces SET person_id = :n WHERE person_id = :p AND face_id = ANY(:f)"
        ).bindparams(bindparam("f", type_=ARRAY(BigInteger()))),
        {"n": new_id, "p": person_id, "f": wanted},
    )
    refresh_person(conn, person_id)
    refresh_person(conn, new_id)
    return summary(conn, new_id)


def rename(
    conn: Connection, session_id: uuid.UUID, person_id: uuid.UUID, name: str | None
) -> PersonSummary:
    """Name (or, with None, unname) a person; its faces are pinned so the name stays on them."""
    _lock(conn, session_id)
    _person(conn, session_id, person_id)
    conn.execute(
        text("UPDATE people SET name = :n, updated_at = now() WHERE id = :p"),
        {"n": name, "p": person_id},
    )
    _pin(conn, [person_id], person_id)
    return summary(conn, person_id)
