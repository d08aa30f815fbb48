"""The grouping algorithm on synthetic embeddings: cannot-link, chains of views, look-alikes."""

from __future__ import annotations

import uuid
from collections import Counter

import numpy as np

from facepass.lab.bench.people_synthetic import synthetic_session
from facepass.people.grouping import GroupingParams, group_faces, knn_graph
from facepass.people.store import match_person_ids

THRESHOLD = 0.086  # dlib-resnet-v1's match threshold (cosine distance)


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def test_synthetic_people_are_recovered_and_no_photo_holds_one_person_twice() -> None:
    session = synthetic_session(1500, faces_per_person=15, seed=3)
    grouping = group_faces(session.vectors, session.photos, THRESHOLD)
    purity = sum(
        Counter(session.people[grouping.labels == g].tolist()).most_common(1)[0][1]
        for g in range(grouping.n_groups)
    ) / len(session.people)
    assert purity >= 0.99
    split = [len(set(grouping.labels[session.people == p])) for p in set(session.people.tolist())]
    assert np.mean(np.array(split) <= 2) >= 0.9
    for group in range(grouping.n_groups):
        photos = session.photos[grouping.labels == group]
        assert len(photos) == len(set(photos.tolist()))


def test_two_faces_of_one_photo_are_two_people_however_alike() -> None:
    rng = np.random.default_rng(0)
    centre = rng.standard_normal(128)
    faces = _unit(centre + rng.standard_normal((6, 128)) * 0.01)
    photos = np.array([0, 0, 1, 2, 3, 4])  # faces 0 and 1 share a photo (a mirror, a poster)
    grouping = group_faces(faces, photos, THRESHOLD)
    assert grouping.labels[0] != grouping.labels[1]
    assert len(set(grouping.labels[2:].tolist())) == 1  # the rest is one person


def test_a_turned_face_joins_through_an_intermediate_view_as_an_edge_face() -> None:
    rng = np.random.default_rng(1)
    frontal = _unit(rng.standard_normal(128))
    turn = rng.standard_normal(128)
    turn = _unit(turn - (turn @ frontal) * frontal)

    def view(angle: float) -> np.ndarray:
        return _unit(
            np.cos(angle) * frontal + np.sin(angle) * turn + rng.standard_normal(128) * 0.003
        )

    person = [view(0.0) for _ in range(10)] + [view(0.25) for _ in range(6)]  # frontal, 3/4
    profile = view(0.55)
    # A look-alike a little beyond the threshold, with several photos of their own.
    other = _unit(frontal + _unit(rng.standard_normal(128)) * 0.45)
    strangers = [_unit(other + rng.standard_normal(128) * 0.003) for _ in range(6)]
    vectors = np.stack([*person, profile, *strangers])
    params = GroupingParams(average_factor=0.7, edge_factor=0.6)
    grouping = group_faces(vectors, np.arange(len(vectors)), THRESHOLD, params)

    assert 1.0 - float(profile @ person[0]) > THRESHOLD  # alone it would not match the frontal
    labels = grouping.labels.tolist()
    assert len(set(labels[:17])) == 1  # the profile joined, through the three-quarter views
    assert not set(labels[:17]) & set(labels[17:])
    assert grouping.core[:16].all()
    assert not grouping.core[16]  # an edge face: search lets it in only if it also matches

    without_edges = group_faces(
        vectors,
        np.arange(len(vectors)),
        THRESHOLD,
        GroupingParams(average_factor=0.7, edge_factor=0.0),
    )
    assert without_edges.labels[16] != without_edges.labels[0]


def test_the_cell_scan_of_large_sessions_finds_what_the_exact_scan_finds() -> None:
    session = synthetic_session(6000, faces_per_person=20, seed=5)
    exact, _ = knn_graph(session.vectors, session.photos, 12, 0.1, exact_max=10**9)
    cells, _ = knn_graph(session.vectors, session.photos, 12, 0.1, exact_max=0)
    found = total = 0
    for mine, theirs in zip(exact, cells, strict=True):
        wanted = set(mine[mine >= 0].tolist())
        total += len(wanted)
        found += len(wanted & set(theirs[theirs >= 0].tolist()))
    assert total > 0
    assert found / total >= 0.99


def test_new_groups_take_over_the_ids_of_the_old_people_they_overlap_most() -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    old = {1: alice, 2: alice, 3: alice, 4: bob, 5: bob}
    face_ids = np.array([1, 2, 3, 4, 5, 6])
    # Alice's group now also holds a new face; Bob split: face 4 alone, face 5 with face 6.
    labels = np.array([0, 0, 0, 1, 2, 2])
    chosen = match_person_ids(face_ids, labels, old)
    assert chosen[0] == alice
    assert sorted([chosen[1], chosen[2]], key=str) in ([bob, None], [None, bob])


def test_pins_keep_a_studios_faces_together_and_apart() -> None:
    rng = np.random.default_rng(5)
    anna = _unit(rng.standard_normal(128) + rng.standard_normal((8, 128)) * 0.01)
    boris = _unit(rng.standard_normal(128) + rng.standard_normal((4, 128)) * 0.01)
    vectors = np.concatenate([anna, boris])
    photos = np.arange(len(vectors))
    free = group_faces(vectors, photos, THRESHOLD)
    assert len(set(free.labels[:8].tolist())) == 1  # without pins: Anna is one person
    assert free.labels[0] != free.labels[8]

    pins = np.full(len(vectors), -1)
    pins[[0, 1, 2]] = 0  # the studio split three of Anna's faces out ...
    pins[[3, 4]] = 1  # ... from the rest of her
    pins[[5, 8]] = 2  # and merged one of her faces with Boris
    pinned = group_faces(vectors, photos, THRESHOLD, pins=pins)
    labels = pinned.labels
    assert len({labels[0], labels[1], labels[2]}) == 1
    assert labels[0] != labels[3]
    assert labels[3] == labels[4]
    assert labels[5] == labels[8]
    assert labels[5] not in {labels[0], labels[3]}
    # Unpinned faces still group as before: Boris's other faces with his pinned one.
    assert {labels[9], labels[10], labels[11]} == {labels[8]}


def test_the_cuts_are_the_operators_then_the_models_then_the_defaults() -> None:
    default = GroupingParams()
    model = {"average_factor": 0.5, "edge_factor": 0.6}
    assert GroupingParams.for_model({}) == default
    tuned = GroupingParams.for_model(model)
    assert (tuned.average_factor, tuned.edge_factor) == (0.5, 0.6)
    assert tuned.link_factor == default.link_factor  # only the two cuts are per model
    chosen = GroupingParams.for_model(model, average_factor=0.3, edge_factor=0.0)
    assert (chosen.average_factor, chosen.edge_factor) == (0.3, 0.0)  # 0 (never) is a choice


def test_the_default_embedder_carries_its_own_cuts() -> None:
    from facepass.engine.registry import INTEL_REID_PARAMS

    cuts = GroupingParams.for_model(INTEL_REID_PARAMS["people"])
    assert cuts != GroupingParams()
