"""The retrieval evaluation's parts: labelled sessions, cached analyses, the metrics."""

from __future__ import annotations

import uuid
from pathlib import Path

from facepass.demo_photos import astronaut_selfie
from facepass.engine import get_engine
from facepass.lab.eval.retrieval import (
    AnalysisCache,
    LabelledPhoto,
    QueryRun,
    build_session,
    curve,
    query_faces,
)
from facepass.search.ranking import FaceHit
from tests.search.conftest import jpeg


def _people(counts: dict[str, int]) -> dict[str, list[LabelledPhoto]]:
    return {
        name: [LabelledPhoto(Path(f"{name}_{i:04d}.jpg"), name) for i in range(count)]
        for name, count in counts.items()
    }


def test_sessions_leave_the_selfies_out_and_respect_the_limits() -> None:
    people = _people({"A": 30, "B": 9, "C": 5, "D": 12})
    session = build_session(people, 25, selfies_per_person=3, min_photos=8, max_per_person=10)
    assert set(session.selfies) <= {"A", "B", "D"}  # C has too few photos
    in_session = {p.path for p in session.photos}
    for name, selfies in session.selfies.items():
        assert len(selfies) == 3
        assert not in_session & {s.path for s in selfies}
        assert sum(p.person == name for p in session.photos) <= 10
    assert session.size == len(session.photos) <= 25
    again = build_session(people, 25, selfies_per_person=3, min_photos=8, max_per_person=10)
    assert [p.path for p in again.photos] == [p.path for p in session.photos]  # seeded


def test_analyses_are_cached_on_disk_and_read_back_identically(tmp_path: Path) -> None:
    image = tmp_path / "selfie.jpg"
    image.write_bytes(jpeg(astronaut_selfie()))
    engine = get_engine()
    first = AnalysisCache(tmp_path / "cache", engine).analysis(image)
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == 1
    again = AnalysisCache(tmp_path / "cache", engine).analysis(image)
    assert len(again.faces) == len(first.faces) == 1
    assert again.faces[0].box == first.faces[0].box
    assert again.faces[0].quality == first.faces[0].quality
    assert (again.faces[0].embedding == first.faces[0].embedding).all()  # type: ignore[union-attr]
    [query] = query_faces(AnalysisCache(tmp_path / "cache", engine), [LabelledPhoto(image, "x")])
    assert query.selfie_index == 0


def test_curve_is_micro_averaged_over_queries() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def hit(photo: uuid.UUID, distance: float) -> FaceHit:
        return FaceHit(0, photo, distance, (0, 0, 1, 1))

    runs = [
        QueryRun("x", {a, b}, [hit(a, 0.02), hit(c, 0.05), hit(b, 0.09)]),
        QueryRun("y", {c}, [hit(c, 0.01)]),
    ]
    tight, loose = curve(runs, [0.03, 0.1])
    assert (tight.precision, tight.recall) == (1.0, 2 / 3)
    assert (loose.precision, loose.recall) == (3 / 4, 1.0)
