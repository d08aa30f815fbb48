"""Ranking on any face index: thresholds, several selfies, query expansion, one hit per photo."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import numpy as np
import pytest

from facepass.engine.types import Embedding
from facepass.search.ranking import (
    FaceHit,
    RankingParams,
    consensus,
    faces_within,
    rank_photos,
    unit,
)


class MemoryIndex:
    """Exact k-NN over embeddings in memory (what `eval retrieval` compares pgvector with)."""

    def __init__(
        self,
        faces: Sequence[tuple[uuid.UUID, np.ndarray]],
        yaws: Sequence[float] | None = None,
    ) -> None:
        self.photo_ids = [photo for photo, _ in faces]
        self.matrix = np.stack([unit(e) for _, e in faces])
        self.yaws = list(yaws) if yaws is not None else [0.0] * len(faces)
        self.calls: list[int] = []

    def nearest(self, query: Embedding, limit: int, within: float | None = None) -> list[FaceHit]:
        self.calls.append(limit)
        distances = 1.0 - self.matrix @ query
        order = np.argsort(distances)[:limit]
        if within is not None:
            order = order[distances[order] <= within]
        return [
            FaceHit(
                int(i),
                self.photo_ids[i],
                float(distances[i]),
                (0, 0, 1, 1),
                self.matrix[i],
                yaw=self.yaws[i],
            )
            for i in order
        ]

    def embeddings(self, face_ids: Sequence[int]) -> dict[int, Embedding]:
        return {i: self.matrix[i] for i in face_ids}


def _axis(*weights: float) -> np.ndarray:
    vector = np.zeros(8, np.float32)
    vector[: len(weights)] = weights
    return unit(vector)


def _around(centre: np.ndarray, spread: float, count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [unit(centre + spread * rng.standard_normal(len(centre))) for _ in range(count)]


def test_consensus_accepts_a_group_of_the_guest_and_refuses_a_lone_look_alike() -> None:
    query = _axis(1)
    guest = _axis(1, 0.27)  # her other photos, around one centre ~0.035 from the selfie
    group = [(uuid.uuid4(), e) for e in _around(guest, 0.03, 8, seed=1)]
    look_alike = (uuid.uuid4(), _axis(1, 0, 0.36))  # one stranger, ~0.06 from the selfie
    index = MemoryIndex([*group, look_alike])
    distances = [1 - float(query @ e) for _, e in [*group, look_alike]]
    assert max(distances) < 0.07
    # One fixed threshold that finds all of her photos lets the stranger in too...
    plain = {h.photo_id for h in rank_photos(index, [query], RankingParams(0.07, consensus=False))}
    assert look_alike[0] in plain
    # ... while the group vouches for her photos and nobody vouches for the stranger.
    params = RankingParams(threshold=0.1, consensus=True)  # groups: 0.041, lone faces: 0.052
    found = {h.photo_id for h in rank_photos(index, [query], params)}
    assert found == {pid for pid, _ in group}


def test_faces_within_keeps_asking_until_the_threshold_stops_it() -> None:
    photo = uuid.uuid4()
    index = MemoryIndex([(photo, _axis(1, 0.001 * i)) for i in range(300)])
    hits = faces_within(index, _axis(1), RankingParams(threshold=0.5, first_k=16, max_faces=1000))
    assert len(hits) == 300
    assert index.calls == [16, 64, 256, 1000]


def test_one_hit_per_photo_its_best_face_nearest_first() -> None:
    near, far, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    index = MemoryIndex(
        [
            (far, _axis(1, 0.3)),
            (near, _axis(1, 0.05)),
            (near, _axis(1, 0.2)),  # a second, weaker face of the same photo
            (stranger, _axis(0, 1)),
        ]
    )
    hits = rank_photos(index, [_axis(1)], RankingParams(threshold=0.1, consensus=False))
    assert [h.photo_id for h in hits] == [near, far]
    assert hits[0].face_id == 1


@pytest.mark.parametrize("combine", ["mean", "union"])
def test_several_selfies_reach_photos_one_selfie_misses(combine: str) -> None:
    left, right = uuid.uuid4(), uuid.uuid4()
    index = MemoryIndex([(left, _axis(1, 0.55)), (right, _axis(1, -0.55))])
    params = RankingParams(0.05, combine=combine, consensus=False)  # type: ignore[arg-type]
    one = rank_photos(index, [_axis(1, 0.5)], params)
    both = rank_photos(index, [_axis(1, 0.5), _axis(1, -0.5)], params)
    assert {h.photo_id for h in one} == {left}
    if combine == "union":
        assert {h.photo_id for h in both} == {left, right}
    else:  # the mean points between the two: each is now further than the threshold
        assert {h.photo_id for h in both} == set()


def test_query_expansion_reaches_the_strong_matches_neighbours() -> None:
    strong, neighbour = uuid.uuid4(), uuid.uuid4()
    index = MemoryIndex([(strong, _axis(1, 0.1)), (neighbour, _axis(1, 0.38))])
    plain = RankingParams(threshold=0.06, consensus=False)
    expanded = RankingParams(0.06, expansion=True, expansion_distance=0.5, consensus=False)
    assert {h.photo_id for h in rank_photos(index, [_axis(1)], plain)} == {strong}
    assert {h.photo_id for h in rank_photos(index, [_axis(1)], expanded)} == {strong, neighbour}


def _pose_session() -> tuple[MemoryIndex, dict[str, set[uuid.UUID]]]:
    """A guest's frontal and profile photos, and strangers' profiles that resemble everyone."""
    frontal_centre, profile_centre = _axis(1, 0.25), _axis(0.55, 0.25, 0.8)
    frontal = [(uuid.uuid4(), e) for e in _around(frontal_centre, 0.02, 6, seed=2)]
    profile = [(uuid.uuid4(), e) for e in _around(profile_centre, 0.02, 3, seed=3)]
    # Strangers seen in profile: as close to the frontal selfie as her own frontal photos.
    strangers = [(uuid.uuid4(), e) for e in _around(_axis(1, 0.2, 0.1), 0.015, 3, seed=4)]
    faces = [*frontal, *profile, *strangers]
    yaws = [5.0] * len(frontal) + [-75.0] * len(profile) + [80.0] * len(strangers)
    ids = {
        "frontal": {p for p, _ in frontal},
        "profile": {p for p, _ in profile},
        "strangers": {p for p, _ in strangers},
    }
    return MemoryIndex(faces, yaws), ids


def test_a_frontal_selfie_does_not_match_profile_faces() -> None:
    index, ids = _pose_session()
    selfie = _axis(1, 0.25)
    blind = RankingParams(threshold=0.1, pose_gap=180.0)
    found = {h.photo_id for h in rank_photos(index, [selfie], blind, yaws=[3.0])}
    assert ids["strangers"] <= found  # pose-blind: the look-alike profiles come in
    aware = RankingParams(threshold=0.1, pose_gap=40.0)
    found = {h.photo_id for h in rank_photos(index, [selfie], aware, yaws=[3.0])}
    assert found == ids["frontal"]


def test_a_turned_second_selfie_finds_the_turned_photos_and_results_merge() -> None:
    index, ids = _pose_session()
    params = RankingParams(threshold=0.1, pose_gap=40.0, turned_anchor=0.0, turned_scale=1.0)
    selfies = [_axis(1, 0.25), _axis(0.55, 0.25, 0.8)]
    # Averaged into one query, a frontal and a profile selfie would find neither pose: each
    # pose is searched on its own (the profile one among turned faces only), then merged.
    found = {h.photo_id for h in rank_photos(index, selfies, params, yaws=[4.0, 70.0])}
    assert found == ids["frontal"] | ids["profile"]
    # The same two selfies without their poses: both taken as frontal, averaged, lost.
    assert not {h.photo_id for h in rank_photos(index, selfies, params)} & ids["profile"]


def test_turned_queries_have_a_threshold_of_their_own() -> None:
    index, ids = _pose_session()
    profile_selfie = _axis(0.55, 0.25, 0.8)
    strict = RankingParams(threshold=0.1, pose_gap=40.0, turned_scale=0.01)
    assert rank_photos(index, [profile_selfie], strict, yaws=[70.0]) == []
    loose = RankingParams(threshold=0.1, pose_gap=40.0, turned_scale=1.0, turned_anchor=0.0)
    found = {h.photo_id for h in rank_photos(index, [profile_selfie], loose, yaws=[70.0])}
    assert found == ids["profile"]


def test_a_models_own_factors_replace_the_defaults() -> None:
    params = RankingParams(threshold=0.1).with_factors(
        {"group_factor": 0.5, "pose_gap": 30, "unknown": 1.0}
    )
    assert (params.group_factor, params.pose_gap) == (0.5, 30.0)
    assert params.lone_factor == RankingParams(threshold=0.1).lone_factor


def test_the_turned_query_leans_on_the_frontal_selfie() -> None:
    frontal_selfie, profile_selfie = _axis(1, 0.25), _axis(0.55, 0.25, 0.8)
    hers = [(uuid.uuid4(), e) for e in _around(_axis(0.8, 0.3, 0.55), 0.01, 3, seed=5)]
    # A stranger's profiles: as close to her profile selfie, far from her frontal face.
    theirs = [(uuid.uuid4(), e) for e in _around(_axis(0.2, 0.25, 0.8, 0.3), 0.01, 3, seed=6)]
    index = MemoryIndex([*hers, *theirs], [70.0] * 6)
    selfies, yaws = [frontal_selfie, profile_selfie], [3.0, 70.0]
    alone = RankingParams(0.3, turned_anchor=0.0, turned_scale=1.0, consensus=False)
    found = {h.photo_id for h in rank_photos(index, selfies, alone, yaws)}
    assert {p for p, _ in theirs} <= found
    anchored = RankingParams(0.3, turned_anchor=1.5, turned_scale=0.5, consensus=False)
    found = {h.photo_id for h in rank_photos(index, selfies, anchored, yaws)}
    assert found == {p for p, _ in hers}


def test_a_wide_reach_stops_fetching_once_the_rest_cannot_change_the_answer() -> None:
    rng = np.random.default_rng(5)
    guest = unit(rng.standard_normal(32).astype(np.float32))
    own = [(uuid.uuid4(), v) for v in _around(guest, 0.25, 12, seed=6)]
    crowd = [(uuid.uuid4(), unit(rng.standard_normal(32).astype(np.float32))) for _ in range(1500)]
    index = MemoryIndex([*own, *crowd])
    # A reach past 1.0 holds about half of the crowd: every face of it was fetched before.
    params = RankingParams(threshold=0.8, candidate_factor=1.25, max_faces=2000)
    reach = params.threshold * params.candidate_factor
    assert len(faces_within(index, guest, params, reach)) > 600
    index.calls.clear()
    found = rank_photos(index, [guest], params)
    assert max(index.calls) < 600
    # The same answer as consensus over every face within the reach.
    every = faces_within(index, guest, params, reach)
    expected = consensus([guest], every, params)
    assert {h.photo_id for h in found} == {h.photo_id for h in expected}
    mine = {photo for photo, _ in own}
    assert {h.photo_id for h in found} <= mine
    assert len(found) >= len(mine) // 2
