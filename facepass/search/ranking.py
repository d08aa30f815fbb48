"""Ranking a session's faces against one or more query embeddings, whatever stores them.

The same code serves the API (faces in pgvector) and `facepass eval retrieval`, so what is
measured is what guests get. Steps: combine the selfies, fetch every face within the threshold
(asking the index for more until the threshold, not the page, is what stops it), optionally
expand the query with the strongest matches, keep the best face per photo.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from facepass.engine.types import Embedding

Combine = Literal["mean", "union"]


@dataclass(frozen=True, slots=True)
class FaceHit:
    """A face of the session and its cosine distance to the query."""

    face_id: int
    photo_id: uuid.UUID
    distance: float
    box: tuple[float, float, float, float]


class FaceIndex(Protocol):
    """The faces of one session, for one model."""

    def nearest(self, query: Embedding, limit: int) -> list[FaceHit]:
        """Up to `limit` faces nearest the query (approximately ordered)."""
        ...

    def embeddings(self, face_ids: Sequence[int]) -> dict[int, Embedding]:
        """The stored embeddings of some faces."""
        ...


@dataclass(frozen=True, slots=True)
class RankingParams:
    """How a search ranks; the defaults are what `facepass eval retrieval` measured best."""

    threshold: float  # cosine distance: a face at most this far is the guest
    max_faces: int = 2000  # most faces one search returns (a guest's photos, bounded)
    first_k: int = 64  # faces asked for first; most guests are in fewer photos
    combine: Combine = "mean"
    expansion: bool = False
    expansion_top: int = 5  # strongest matches added to the query in the second pass
    expansion_distance: float = 0.7  # ... each at most this fraction of the threshold away


def unit(vector: np.ndarray) -> Embedding:
    """The vector scaled to length 1 (cosine distance is then 1 - dot product)."""
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)


def faces_within(index: FaceIndex, query: Embedding, params: RankingParams) -> list[FaceHit]:
    """Every face within the threshold, up to max_faces, nearest first."""
    k = min(params.first_k, params.max_faces)
    while True:
        hits = sorted(index.nearest(query, k), key=lambda h: h.distance)
        exhausted = len(hits) < k or hits[-1].distance > params.threshold
        if exhausted or k >= params.max_faces:
            break
        k = min(k * 4, params.max_faces)
    return [hit for hit in hits if hit.distance <= params.threshold]


def _merge(groups: Sequence[list[FaceHit]]) -> list[FaceHit]:
    """Union of hit lists, each face at its smallest distance."""
    best: dict[int, FaceHit] = {}
    for hits in groups:
        for hit in hits:
            kept = best.get(hit.face_id)
            if kept is None or hit.distance < kept.distance:
                best[hit.face_id] = hit
    return sorted(best.values(), key=lambda h: h.distance)


def best_face_per_photo(hits: Sequence[FaceHit]) -> list[FaceHit]:
    """One hit per photo, its nearest face; nearest photos first."""
    best: dict[uuid.UUID, FaceHit] = {}
    for hit in hits:
        kept = best.get(hit.photo_id)
        if kept is None or hit.distance < kept.distance:
            best[hit.photo_id] = hit
    return sorted(best.values(), key=lambda h: h.distance)


def rank_photos(
    index: FaceIndex, queries: Sequence[Embedding], params: RankingParams
) -> list[FaceHit]:
    """The session's photos showing the person of the queries, as their best face each."""
    if not queries:
        return []
    vectors = [unit(np.asarray(q, np.float32)) for q in queries]
    if params.combine == "mean" or len(vectors) == 1:
        query = unit(np.mean(vectors, axis=0))
        hits = faces_within(index, query, params)
        base = [query]
    else:
        hits = _merge([faces_within(index, v, params) for v in vectors])
        base = vectors
    if params.expansion:
        hits = _expand(index, base, hits, params)
    return best_face_per_photo(hits)


def _expand(
    index: FaceIndex, base: list[Embedding], hits: list[FaceHit], params: RankingParams
) -> list[FaceHit]:
    """Second pass: the query moved towards its strongest matches (other light, other angles)."""
    strong = [
        h
        for h in best_face_per_photo(hits)
        if h.distance <= params.threshold * params.expansion_distance
    ][: params.expansion_top]
    if not strong:
        return hits
    stored = index.embeddings([h.face_id for h in strong])
    anchors = [
        unit(np.asarray(stored[h.face_id], np.float32)) for h in strong if h.face_id in stored
    ]
    expanded = unit(np.mean([*base, *anchors], axis=0))
    return _merge([hits, faces_within(index, expanded, params)])
