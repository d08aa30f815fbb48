"""Search through the session's people: a firmly matched person brings its other photos.

A selfie finds some faces on its own (facepass.search.ranking). When one of those is a *core*
face of a person, found firmly (within `firm_factor` of the threshold), and the person's core
centroid is close to the selfie too (`group_factor`), the person's other faces join the
result: their turned or poorly lit faces, linked to the person through intermediate views,
that the selfie alone would miss. A person never pulls in a face that matches the selfie
poorly on its own unless the person vouches for it: only its core faces (several links inside
the person) come in whatever their own distance; a face that hangs on by one link must also be
within `own_factor` of the threshold itself. `facepass eval people` measures what this gains
and what it costs in precision (held-out CFP and LFW people).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import BigInteger, Uuid

from facepass.db import vector_from_send
from facepass.search.ranking import FaceHit, best_face_per_photo


@dataclass(frozen=True, slots=True)
class ExpansionParams:
    """Fractions of the model's match threshold (tuned on CFP 001-200 / LFW View 1 train)."""

    firm_factor: float = 0.6  # a core face found this close makes its person a candidate
    group_factor: float = 0.7  # ... if the person's core centroid is this close to the selfie
    own_factor: float = 1.2  # an edge (non-core) face must itself be this close


@dataclass(frozen=True, slots=True)
class Membership:
    person_id: uuid.UUID
    core: bool


@dataclass(frozen=True, slots=True)
class MemberFace:
    """A face of a matched person, with its own distance to the selfie."""

    hit: FaceHit
    core: bool


def firm_people(
    queries: npt.NDArray[np.float32],
    hits: Sequence[FaceHit],
    membership: Mapping[int, Membership],
    centroids: Mapping[uuid.UUID, npt.NDArray[np.float32]],
    threshold: float,
    params: ExpansionParams,
) -> set[uuid.UUID]:
    """People a firm hit on a core face points at, whose centroid the selfie matches too."""
    chosen: set[uuid.UUID] = set()
    for hit in hits:
        member = membership.get(hit.face_id)
        if member is None or not member.core or hit.distance > threshold * params.firm_factor:
            continue
        centroid = centroids.get(member.person_id)
        if centroid is None:
            continue
        if float((1.0 - queries @ centroid).min()) <= threshold * params.group_factor:
            chosen.add(member.person_id)
    return chosen


def vouched(
    members: Sequence[MemberFace], threshold: float, params: ExpansionParams
) -> list[FaceHit]:
    """The faces a matched person lets in: its core, and edge faces close enough themselves."""
    reach = threshold * params.own_factor
    return [m.hit for m in members if m.core or m.hit.distance <= reach]


def merge_hits(hits: Sequence[FaceHit], added: Sequence[FaceHit]) -> list[FaceHit]:
    """The search's hits plus the people's faces, one (nearest) face per photo."""
    return best_face_per_photo([*hits, *added])


_MEMBERSHIP = text(
    """
    SELECT pf.face_id, pf.person_id, pf.core, vector_send(p.centroid) AS centroid
    FROM person_faces pf JOIN people p ON p.id = pf.person_id
    WHERE pf.face_id = ANY(:ids) AND p.model_id = :m
    """
).bindparams(bindparam("ids", type_=ARRAY(BigInteger())))


def _members_query(dim: int) -> TextClause:
    return text(
        f"""
            SELECT f.id, f.photo_id, f.box_left, f.box_top, f.box_right, f.box_bottom, pf.core,
                   vector_send(f.embedding::vector({int(dim)})) AS vector
            FROM person_faces pf JOIN faces f ON f.id = pf.face_id
            WHERE pf.person_id = ANY(:people) AND f.session_id = :s
            """  # noqa: S608 - only an int is interpolated
    ).bindparams(bindparam("people", type_=ARRAY(Uuid())))


def _unit(vector: object) -> npt.NDArray[np.float32]:
    array = np.asarray(vector, np.float32)
    return array / max(float(np.linalg.norm(array)), 1e-12)


def expand_with_people(
    conn: Connection,
    session_id: uuid.UUID,
    model_id: str,
    dim: int,
    queries: Sequence[npt.NDArray[np.float32]],
    hits: list[FaceHit],
    threshold: float,
    params: ExpansionParams | None = None,
) -> list[FaceHit]:
    """`hits` plus the photos of the people the selfie firmly matches (best face per photo)."""
    params = params or ExpansionParams()
    if not hits or not queries:
        return hits
    rows = conn.execute(_MEMBERSHIP, {"ids": [h.face_id for h in hits], "m": model_id}).all()
    membership = {row.face_id: Membership(row.person_id, row.core) for row in rows}
    centroids = {
        row.person_id: vector_from_send(row.centroid) for row in rows if row.centroid is not None
    }
    matrix = np.stack([_unit(q) for q in queries])
    people = firm_people(matrix, hits, membership, centroids, threshold, params)
    if not people:
        return hits
    members = []
    for row in conn.execute(_members_query(dim), {"people": list(people), "s": session_id}):
        distance = float((1.0 - matrix @ _unit(vector_from_send(row.vector))).min())
        box = (row.box_left, row.box_top, row.box_right, row.box_bottom)
        members.append(MemberFace(FaceHit(row.id, row.photo_id, distance, box), row.core))
    return merge_hits(hits, vouched(members, threshold, params))
