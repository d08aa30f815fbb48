"""Reading a session's faces for grouping, and writing the grouping back with stable person ids.

A regrouping replaces the session's people in one transaction. New groups take over the ids of
the old people they share most faces with (each old id at most once, largest overlaps first),
so a person an admin linked to keeps its id while photos arrive; groups with no old
counterpart get new ids, and old people with no successor are deleted.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Boolean, SmallInteger, Text, Uuid

from facepass.db import vector_from_send
from facepass.locks import AdvisoryLock, try_lock_for
from facepass.people.grouping import Grouping


@dataclass(frozen=True, slots=True)
class SessionFaces:
    """The grouped faces of one session and model, row-aligned."""

    face_ids: npt.NDArray[np.int64]
    photo_ids: list[uuid.UUID]
    photo_codes: npt.NDArray[np.int64]  # a small int per photo (cannot-link key)
    vectors: npt.NDArray[np.float32]  # unit rows
    # The person the studio pinned each face to (None: not pinned), and as small ints (-1).
    pinned_to: list[uuid.UUID | None] = dataclasses.field(default_factory=list)
    pin_codes: npt.NDArray[np.int64] = dataclasses.field(
        default_factory=lambda: np.zeros(0, np.int64)
    )


@dataclass(frozen=True, slots=True)
class SavedGrouping:
    people: int
    kept_ids: int  # people whose id survived from the previous grouping
    faces: int


def try_lock_session(conn: Connection, session_id: uuid.UUID) -> bool:
    """Take the session's regrouping lock for this transaction; False if another holds it."""
    return try_lock_for(conn, AdvisoryLock.PEOPLE, str(session_id))


# The pin of face `f`: the pin on its photo whose box overlaps the face's most (IoU >= 0.5).
# A re-indexed face lands within a pixel or two of the old one; another face of the photo
# never overlaps it that much (two faces of one photo are two people).
PIN_OF_FACE = """
    SELECT pp.person_id FROM person_pins pp
    CROSS JOIN LATERAL (
        SELECT greatest(0, least(pp.box_right, f.box_right) - greatest(pp.box_left, f.box_left))
             * greatest(0, least(pp.box_bottom, f.box_bottom) - greatest(pp.box_top, f.box_top))
             AS inter
    ) i
    WHERE pp.photo_id = f.photo_id
      AND i.inter >= 0.5 * ((pp.box_right - pp.box_left) * (pp.box_bottom - pp.box_top)
                            + (f.box_right - f.box_left) * (f.box_bottom - f.box_top) - i.inter)
    ORDER BY i.inter DESC LIMIT 1
"""


def load_faces(conn: Connection, session_id: uuid.UUID, model_id: str, dim: int) -> SessionFaces:
    """Every searchable face of the session for the model (what search reads too)."""
    query = text(
        f"""
        SELECT f.id, f.photo_id, vector_send(f.embedding::vector({int(dim)})) AS vector,
               pin.person_id AS pin
        FROM faces f
        LEFT JOIN LATERAL ({PIN_OF_FACE}) pin ON true
        WHERE f.session_id = :s AND f.model_id = :m AND f.indexable AND f.embedding IS NOT NULL
        ORDER BY f.id
        """  # noqa: S608 - only an int and a constant are interpolated
    )
    rows = conn.execute(query, {"s": session_id, "m": model_id}).all()
    face_ids = np.array([row.id for row in rows], np.int64)
    photo_ids = [row.photo_id for row in rows]
    codes: dict[uuid.UUID, int] = {}
    photo_codes = np.array([codes.setdefault(p, len(codes)) for p in photo_ids], np.int64)
    raw = np.array([vector_from_send(row.vector) for row in rows], np.float32).reshape(
        len(rows), dim
    )
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    vectors = (raw / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    pinned_to = [row.pin for row in rows]
    pins: dict[uuid.UUID, int] = {}
    pin_codes = np.array(
        [-1 if p is None else pins.setdefault(p, len(pins)) for p in pinned_to], np.int64
    )
    return SessionFaces(face_ids, photo_ids, photo_codes, vectors, pinned_to, pin_codes)


_OLD_ASSIGNMENTS = text(
    """
    SELECT pf.face_id, pf.person_id FROM person_faces pf JOIN people p ON p.id = pf.person_id
    WHERE p.session_id = :s AND p.model_id = :m
    """
)


def pinned_person_ids(
    pinned_to: list[uuid.UUID | None], labels: npt.NDArray[np.int64]
) -> list[uuid.UUID | None]:
    """For each group, the person its studio-pinned faces name (the most pinned), or None."""
    n_groups = int(labels.max()) + 1 if len(labels) else 0
    votes: Counter[tuple[int, uuid.UUID]] = Counter(
        (label, pin) for label, pin in zip(labels.tolist(), pinned_to, strict=True) if pin
    )
    chosen: list[uuid.UUID | None] = [None] * n_groups
    for (label, pin), _ in sorted(votes.items(), key=lambda item: (-item[1], str(item[0]))):
        if chosen[label] is None and pin not in chosen:
            chosen[label] = pin
    return chosen


def match_person_ids(
    face_ids: npt.NDArray[np.int64],
    labels: npt.NDArray[np.int64],
    old: dict[int, uuid.UUID],
    pinned: list[uuid.UUID | None] | None = None,
) -> list[uuid.UUID | None]:
    """For each new group, the old person id it takes over (largest overlaps first), or None.
    A group with pinned faces keeps its pin's id (`pinned`), which no other group takes."""
    n_groups = int(labels.max()) + 1 if len(labels) else 0
    chosen: list[uuid.UUID | None] = list(pinned) if pinned else [None] * n_groups
    taken: set[uuid.UUID] = {p for p in chosen if p is not None}
    overlaps: Counter[tuple[int, uuid.UUID]] = Counter()
    for face_id, label in zip(face_ids.tolist(), labels.tolist(), strict=True):
        person = old.get(face_id)
        if person is not None:
            overlaps[(label, person)] += 1
    for (label, person), _ in sorted(overlaps.items(), key=lambda item: (-item[1], str(item[0]))):
        if chosen[label] is None and person not in taken:
            chosen[label] = person
            taken.add(person)
    return chosen


def _vector_text(vector: npt.NDArray[np.float64]) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


_UPSERT_PEOPLE = text(
    """
    INSERT INTO people (id, session_id, model_id, centroid)
    SELECT u.id, :s, :m, CAST(u.centroid AS vector) FROM unnest(:ids, :centroids) AS u(id, centroid)
    ON CONFLICT (id) DO UPDATE
        SET centroid = excluded.centroid, model_id = excluded.model_id, updated_at = now()
    """
).bindparams(bindparam("ids", type_=ARRAY(Uuid())), bindparam("centroids", type_=ARRAY(Text())))
# A person kept by the new grouping keeps its row (and its name), even across a model change.
_DELETE_OTHERS = text("DELETE FROM people WHERE session_id = :s AND id <> ALL(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(Uuid()))
)
# Faces deleted since they were read are skipped (the join), never an FK error.
_INSERT_FACES = text(
    """
    INSERT INTO person_faces (face_id, person_id, session_id, photo_id, core, support)
    SELECT f.id, u.person_id, f.session_id, f.photo_id, u.core, u.support
    FROM unnest(:faces, :people, :cores, :supports) AS u(face_id, person_id, core, support)
    JOIN faces f ON f.id = u.face_id
    """
).bindparams(
    bindparam("faces", type_=ARRAY(BigInteger())),
    bindparam("people", type_=ARRAY(Uuid())),
    bindparam("cores", type_=ARRAY(Boolean())),
    bindparam("supports", type_=ARRAY(SmallInteger())),
)
_SET_COVERS = text(
    """
    UPDATE people p SET cover_face_id = u.face_id
    FROM unnest(:ids, :faces) AS u(id, face_id) JOIN faces f ON f.id = u.face_id
    WHERE p.id = u.id
    """
).bindparams(bindparam("ids", type_=ARRAY(Uuid())), bindparam("faces", type_=ARRAY(BigInteger())))


def centroids_and_covers(faces: SessionFaces, grouping: Grouping) -> tuple[list[str], list[int]]:
    """Each group's unit core centroid and its most typical core face (nearest the centroid)."""
    labels, vectors = grouping.labels, faces.vectors
    n_groups = grouping.n_groups
    weights = np.where(grouping.core, 1.0, 1e-3)  # groups without core faces use all faces
    sums = np.zeros((n_groups, vectors.shape[1]), np.float64)
    np.add.at(sums, labels, vectors * weights[:, None])
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    fit = np.einsum("ij,ij->i", vectors, sums[labels]) + grouping.core  # core faces first
    best = np.full(n_groups, -np.inf)
    covers = np.zeros(n_groups, np.int64)
    for index in np.argsort(fit):  # ascending: the last write per group is its best face
        best[labels[index]] = fit[index]
        covers[labels[index]] = faces.face_ids[index]
    return [_vector_text(row) for row in sums], covers.tolist()


def save_grouping(
    conn: Connection, session_id: uuid.UUID, model_id: str, faces: SessionFaces, grouping: Grouping
) -> SavedGrouping:
    """Replace the session's people with `grouping` (call inside the locked transaction)."""
    old = {
        int(row.face_id): row.person_id
        for row in conn.execute(_OLD_ASSIGNMENTS, {"s": session_id, "m": model_id})
    }
    pinned = pinned_person_ids(faces.pinned_to, grouping.labels) if faces.pinned_to else None
    matched = match_person_ids(faces.face_ids, grouping.labels, old, pinned)
    ids = [person or uuid.uuid4() for person in matched]
    centroids, covers = centroids_and_covers(faces, grouping)
    conn.execute(text("DELETE FROM person_faces WHERE session_id = :s"), {"s": session_id})
    conn.execute(_DELETE_OTHERS, {"s": session_id, "ids": ids})
    if ids:
        conn.execute(
            _UPSERT_PEOPLE,
            {"s": session_id, "m": model_id, "ids": ids, "centroids": centroids},
        )
        conn.execute(
            _INSERT_FACES,
            {
                "faces": faces.face_ids.tolist(),
                "people": [ids[label] for label in grouping.labels.tolist()],
                "cores": grouping.core.tolist(),
                "supports": np.minimum(grouping.support, 32767).tolist(),
            },
        )
        conn.execute(_SET_COVERS, {"ids": ids, "faces": covers})
    return SavedGrouping(
        len(ids), sum(person is not None for person in matched), len(faces.face_ids)
    )
