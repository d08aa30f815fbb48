"""Ranking a session's faces against one or more query embeddings, whatever stores them.

The same code serves the API (faces in pgvector) and `facepass eval retrieval`, so what is
measured is what guests get. Steps: combine the selfies of each pose, fetch every face within
the threshold (asking the index for more until the threshold, not the page, is what stops it)
whose pose is close to the query's, optionally expand the query with the strongest matches,
keep the best face per photo.

Pose: turned faces are indexed too, with their estimated yaw. A frontal selfie and a profile
photo of one person are far apart for the embedder, while strangers' profiles sit close to
everything, so a query only meets faces of a similar pose (`pose_gap`); a turned selfie (the
page's second angle) is what finds the turned photos, each pose's results merged at the end.

Consensus (on by default): a session holds many photos of each person, and their faces agree
with each other far better than any single face agrees with a selfie. Candidates a little
beyond the threshold are grouped (average linkage); a group is accepted when its centroid is
close to the query, a lone face only when it is very close itself. Measured with
`facepass eval retrieval`: at equal precision it finds far more of a guest's photos than one
fixed threshold, and strangers who merely resemble the guest stay out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
    embedding: Embedding | None = field(default=None, compare=False, repr=False)
    yaw: float = 0.0  # the face's estimated yaw, degrees (sign: which way it turns)


class FaceIndex(Protocol):
    """The faces of one session, for one model."""

    def nearest(self, query: Embedding, limit: int, within: float | None = None) -> list[FaceHit]:
        """Up to `limit` faces nearest the query (approximately ordered), with embeddings;
        with `within`, only faces at most that far (fewer rows to send: the search's reach)."""
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
    consensus: bool = True
    # Fractions of `threshold` (so they follow the model's scale) and degrees. These defaults
    # were chosen for dlib-resnet-v1 on the tuning halves only (CFP 001-200 and LFW View 1
    # train people: `facepass eval calibrate`, docs/search.md), never on those reported on.
    candidate_factor: float = 1.25  # faces considered at all
    link_factor: float = 0.7  # average-linkage cut: faces this close form a group
    group_factor: float = 0.41  # a group's centroid must be this close to the query
    lone_factor: float = 0.46  # a face accepted on its own must be this close
    max_candidates: int = 300  # grouping is cubic in this; a guest's faces fit well within
    # Pose: a frontal query meets faces whose |yaw| differs from its own by at most `pose_gap`
    # degrees. Selfies turned more than `turned_yaw` form the turned query, which meets faces
    # within `turned_pose_gap` of it, with the threshold times `turned_scale` (strangers'
    # profiles resemble each other more than one person's frontal and profile faces do).
    pose_gap: float = 180.0
    turned_yaw: float = 60.0
    turned_pose_gap: float = 45.0
    turned_scale: float = 0.8
    # The turned query leans on the frontal selfies: it is the turned selfies' mean plus this
    # weight times the frontal ones' (a stranger's profile that resembles the guest's profile
    # is rarely also close to the guest's frontal face; 0: the turned selfies alone).
    turned_anchor: float = 0.5

    def with_factors(self, factors: Mapping[str, float]) -> RankingParams:
        """These params with some factors replaced (a model's own, from its registry entry)."""
        known = {name: float(value) for name, value in factors.items() if name in _FACTORS}
        return replace(self, **known)  # type: ignore[arg-type]


# The factors a model may tune for itself (registry params "ranking"; `facepass eval calibrate`).
_FACTORS = frozenset(
    {
        "candidate_factor",
        "link_factor",
        "group_factor",
        "lone_factor",
        "pose_gap",
        "turned_yaw",
        "turned_pose_gap",
        "turned_scale",
        "turned_anchor",
    }
)


@dataclass(frozen=True, slots=True)
class Query:
    """One query vector and the pose (|yaw|, degrees) of the selfie faces it comes from."""

    embedding: Embedding
    yaw: float = 0.0


def unit(vector: np.ndarray) -> Embedding:
    """The vector scaled to length 1 (cosine distance is then 1 - dot product)."""
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)


def faces_within(
    index: FaceIndex,
    query: Embedding,
    params: RankingParams,
    threshold: float | None = None,
    *,
    first_k: int | None = None,
    enough: Callable[[list[FaceHit]], bool] | None = None,
) -> list[FaceHit]:
    """Every face within the threshold, up to max_faces, nearest first: the index is asked
    for more (k x 4) until the threshold, not the page, stops it, or until `enough` says the
    nearest faces fetched so far already decide what the caller will do with them."""
    limit = params.threshold if threshold is None else threshold
    k = min(params.first_k if first_k is None else first_k, params.max_faces)
    while True:
        hits = sorted(index.nearest(query, k, within=limit), key=lambda h: h.distance)
        exhausted = len(hits) < k or hits[-1].distance > limit
        if exhausted or k >= params.max_faces or (enough is not None and enough(hits)):
            break
        k = min(k * 4, params.max_faces)
    return [hit for hit in hits if hit.distance <= limit]


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


def pose_queries(
    queries: Sequence[Embedding], yaws: Sequence[float] | None, params: RankingParams
) -> list[Query]:
    """The selfies as queries: one per pose (frontal, turned) when combined by mean."""
    vectors = [unit(np.asarray(q, np.float32)) for q in queries]
    poses = [abs(y) for y in yaws] if yaws is not None else [0.0] * len(vectors)
    if params.combine != "mean":
        return [Query(v, y) for v, y in zip(vectors, poses, strict=True)]
    frontal = [v for v, y in zip(vectors, poses, strict=True) if y <= params.turned_yaw]
    turned = [(v, y) for v, y in zip(vectors, poses, strict=True) if y > params.turned_yaw]
    result = []
    if frontal:
        yaw = float(np.mean([y for y in poses if y <= params.turned_yaw]))
        result.append(Query(unit(np.mean(frontal, axis=0)), yaw))
    if turned:
        vector = np.mean([v for v, _ in turned], axis=0)
        if frontal and params.turned_anchor > 0:
            vector = vector + params.turned_anchor * np.mean(frontal, axis=0)
        result.append(Query(unit(vector), float(np.mean([y for _, y in turned]))))
    return result


def rank_photos(
    index: FaceIndex,
    queries: Sequence[Embedding],
    params: RankingParams,
    yaws: Sequence[float] | None = None,
) -> list[FaceHit]:
    """The session's photos showing the person of the queries (selfie faces of these yaws;
    frontal if not given), as their best face each."""
    if not queries:
        return []
    found = [_rank_pose(index, query, params) for query in pose_queries(queries, yaws, params)]
    hits = _merge(found)
    if params.expansion:
        base = [q.embedding for q in pose_queries(queries, yaws, params)]
        hits = _expand(index, base, hits, params)
    return best_face_per_photo(hits)


def _rank_pose(index: FaceIndex, query: Query, params: RankingParams) -> list[FaceHit]:
    """The faces of a similar pose that one query (with the session's consensus) accepts."""
    gap = params.pose_gap
    if query.yaw > params.turned_yaw:
        gap = params.turned_pose_gap
        params = replace(params, threshold=params.threshold * params.turned_scale)
    if not params.consensus:
        return [
            hit
            for hit in faces_within(index, query.embedding, params)
            if abs(abs(hit.yaw) - query.yaw) <= gap
        ]
    return consensus([query.embedding], _consensus_candidates(index, query, params, gap), params)


def _consensus_candidates(
    index: FaceIndex, query: Query, params: RankingParams, gap: float
) -> list[FaceHit]:
    """The faces within the consensus's reach and of a similar pose, nearest first, fetched
    only until the rest cannot change its answer: it groups only the `max_candidates` nearest
    and accepts a face beyond them only within the lone distance. A wide reach (the default
    embedder's holds half of a session's faces) would otherwise fetch every face of it."""
    lone = params.threshold * params.lone_factor

    def posed(hits: list[FaceHit]) -> list[FaceHit]:
        return [hit for hit in hits if abs(abs(hit.yaw) - query.yaw) <= gap]

    def settled(hits: list[FaceHit]) -> bool:
        return len(posed(hits)) >= params.max_candidates and hits[-1].distance > lone

    reach = params.threshold * params.candidate_factor
    # Rows beyond the reach are never sent (`within`), so asking for enough at once is free.
    first_k = params.max_candidates + params.first_k
    return posed(
        faces_within(index, query.embedding, params, reach, first_k=first_k, enough=settled)
    )


def average_linkage(vectors: np.ndarray, cutoff: float) -> list[list[int]]:
    """Groups of unit vectors whose average pairwise cosine distance stays within `cutoff`."""
    n = len(vectors)
    distances = (1.0 - vectors @ vectors.T).astype(np.float64)
    np.fill_diagonal(distances, np.inf)
    sizes = np.ones(n)
    members: list[list[int]] = [[i] for i in range(n)]
    while n > 1:
        i, j = divmod(int(np.argmin(distances)), n)
        if distances[i, j] > cutoff:
            break
        # Lance-Williams update: the merged group's average distance to every other group.
        merged = (sizes[i] * distances[i] + sizes[j] * distances[j]) / (sizes[i] + sizes[j])
        distances[i, :] = merged
        distances[:, i] = merged
        distances[i, i] = np.inf
        distances[j, :] = np.inf
        distances[:, j] = np.inf
        sizes[i] += sizes[j]
        members[i] += members[j]
        members[j] = []
    return [group for group in members if group]


def consensus(
    base: Sequence[Embedding], hits: list[FaceHit], params: RankingParams
) -> list[FaceHit]:
    """The candidates the session's own groups vouch for, or that are very close alone."""
    lone = params.threshold * params.lone_factor
    candidates = [h for h in hits[: params.max_candidates] if h.embedding is not None]
    if len(candidates) < 2:
        return [h for h in hits if h.distance <= lone]
    matrix = np.stack([unit(np.asarray(h.embedding, np.float32)) for h in candidates])
    queries = np.stack(base)
    accepted = {h.face_id for h in hits if h.distance <= lone}
    for group in average_linkage(matrix, params.threshold * params.link_factor):
        centre = unit(matrix[group].mean(axis=0))
        if float((1.0 - queries @ centre).min()) <= params.threshold * params.group_factor:
            accepted.update(candidates[i].face_id for i in group)
    return [h for h in hits if h.face_id in accepted]


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
    return _merge([hits, faces_within(index, expanded, replace(params, consensus=False))])
