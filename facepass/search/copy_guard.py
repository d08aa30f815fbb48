"""Is a live frame a copy of a face the session already holds? (issue 16)

The passive anti-spoofing model cannot tell a face cut out of a digital event photo from a
camera frame. But the session itself holds every face it could be cut from: a live frame must
be a NEW capture, so a frame whose embedding lies closer than `copy_factor` times the
embedder's match threshold to a face of the same session and model is refused as a copy
(422 LIVE_COPIED_FACE). Faces an opt-out or a studio's removal took out and that still wait
in `removed_faces` count too: a copy of a removed face is still a copy (once a removal is
final their embeddings are gone, and so is this check's view of them).

A genuine guest's new selfie is another photo of them: near their indexed faces (that is how
the search finds them) but never as near as a copy of one of those faces, which shares its
pixels (resized, re-encoded). The factor is chosen on CFP 001-200 and reported on 201-300 by
`facepass eval copies` (docs/hardening.md, "Live selfies").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, text

from facepass.db import OwnDatabase
from facepass.engine.types import Embedding
from facepass.search.vector_search import PgVectorFaceIndex, vector_literal


def is_copy(distance: float | None, copy_factor: float, match_threshold: float) -> bool:
    """The rule: nearer than `copy_factor` x the threshold to a face the session holds
    (None: the session holds no face of this model)."""
    return distance is not None and distance < copy_factor * match_threshold


def _nearest_removed(
    conn: Connection, session_id: uuid.UUID, model_id: str, dim: int, query: Embedding
) -> float | None:
    """The nearest face of the session's pending removals (few rows: an exact scan)."""
    statement = text(
        f"""
        SELECT min(embedding::vector({int(dim)}) <=> CAST(:q AS vector({int(dim)})))
        FROM removed_faces
        WHERE session_id = :s AND model_id = :m AND embedding IS NOT NULL
        """  # noqa: S608 - only an int is interpolated
    )
    value = conn.execute(
        statement, {"q": vector_literal(query), "s": session_id, "m": model_id}
    ).scalar_one()
    return None if value is None else float(value)


def nearest_held_distance(
    conn: Connection, session_id: uuid.UUID, model_id: str, dim: int, query: Embedding
) -> float | None:
    """Cosine distance from `query` to the nearest face the session holds for this model:
    its searchable faces (as a search finds them) and its removed faces still under review."""
    hits = PgVectorFaceIndex(conn, session_id, model_id, dim).nearest(query, 1)
    distances = [hit.distance for hit in hits]
    removed = _nearest_removed(conn, session_id, model_id, dim, query)
    if removed is not None:
        distances.append(removed)
    return min(distances, default=None)


def copied_frames(
    own_db: OwnDatabase,
    session_id: uuid.UUID,
    model_id: str,
    dim: int,
    embeddings: Sequence[Embedding],
    copy_factor: float,
    match_threshold: float,
) -> list[float | None]:
    """Each frame's nearest held distance, in order, when any frame is a copy; [] when none
    is (blocking: call it off the event loop)."""
    if copy_factor <= 0:
        return []
    with own_db.engine.begin() as conn:
        distances = [nearest_held_distance(conn, session_id, model_id, dim, e) for e in embeddings]
    if any(is_copy(d, copy_factor, match_threshold) for d in distances):
        return distances
    return []
