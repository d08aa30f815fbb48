"""The grouping algorithm on synthetic embeddings: cannot-link, chains of views, look-alikes."""

from __future__ import annotations

import uuid
from collections import Counter

import numpy as np

from facepass.people.grouping import group_faces, knn_graph
from facepass.people.store import match_person_ids
from facepass.people.synthetic import synthetic_session

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


def test_turned_faces_join_through_intermediate_views_but_look_alikes_stay_apart() -> None:
    rng = np.random.default_rng(1)
    frontal = _unit(rng.standard_normal(128))
    turn = rng.standard_normal(128)
    turn = _unit(turn - (turn @ frontal) * frontal)
    # Views from frontal to profile: each step close to the next, the ends far apart.
    views = []
    for angle in np.linspace(0.0, 0.7, 12):
        view = np.cos(angle) * frontal + np.sin(angle) * turn
        views += [_unit(view + rng.standard_normal(128) * 0.004) for _ in range(4)]
    # A look-alike a little beyond the threshold (inside the graph's reach), several photos.
    other = _unit(frontal + _unit(rng.standard_normal(128)) * 0.45)
    strangers = [_unit(other + rng.standard_normal(128) * 0.004) for _ in range(6)]
    vectors = np.stack(views + strangers)
    photos = np.arange(len(vectors))
    grouping = group_faces(vectors, photos, THRESHOLD)
    ends = 1.0 - float(views[0] @ views[-1])
    assert ends > 2 * THRESHOLD  # the profile alone would never match the frontal face
    person = set(grouping.labels[: len(views)].tolist())
    assert len(person) == 1
    assert not person & set(grouping.labels[len(views) :].tolist())
    assert grouping.core[: len(views)].mean() > 0.9


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
