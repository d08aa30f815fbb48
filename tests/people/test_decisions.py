"""A studio's merge, split and name survive a regrouping and a re-index (pins, migration 0009)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from facepass.app import create_app
from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.people.tasks import regroup_session
from facepass.search.vector_search import vector_literal
from tests.conftest import ADMIN_TOKEN
from tests.people.conftest import MODEL_ID, add_photo, person_faces, unit
from tests.search.conftest import search_settings

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def settings(
    own_db_url: str, pixora_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return search_settings(own_db_url, pixora_url, tmp_path_factory.mktemp("decisions"))


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_migrations=False, start_background=False)) as c:
        yield c


@pytest.fixture
def work(settings: Settings) -> Iterator[AppContext]:
    owned = AppContext.build(settings)
    yield owned
    owned.close()


def _people(engine: Engine, session_id: uuid.UUID) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Each person of the session and the photos of its faces (photo ids survive a re-index)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT person_id, photo_id FROM person_faces WHERE session_id = :s"),
            {"s": session_id},
        ).all()
    people: dict[uuid.UUID, set[uuid.UUID]] = {}
    for person_id, photo_id in rows:
        people.setdefault(person_id, set()).add(photo_id)
    return people


def _reindex(engine: Engine, session_id: uuid.UUID, seed: int) -> None:
    """What a re-index leaves: every face replaced by a new row (a new id) at almost the same
    box of the same photo, its embedding a little different (another run of the engine)."""
    rng = np.random.default_rng(seed)
    with engine.begin() as conn:
        old = conn.execute(
            text(
                "SELECT id, photo_id, box_left, box_top, box_right, box_bottom,"
                " embedding::text AS e FROM faces WHERE session_id = :s"
            ),
            {"s": session_id},
        ).all()
        conn.execute(text("DELETE FROM faces WHERE session_id = :s"), {"s": session_id})
        for row in old:
            vector = np.array([float(x) for x in row.e.strip("[]").split(",")])
            moved = unit(vector + rng.standard_normal(len(vector)) * 0.001)
            conn.execute(
                text(
                    """
                    INSERT INTO faces (photo_id, session_id, model_id, box_left, box_top,
                        box_right, box_bottom, detection_score, size_px, sharpness, yaw, pitch,
                        roll, indexable, embedding)
                    VALUES (:p, :s, :m, :l, :t, :r, :b, 0.9, 100, 50, 0, 0, 0, true,
                            CAST(:e AS vector))
                    """
                ),
                {
                    "p": row.photo_id,
                    "s": session_id,
                    "m": MODEL_ID,
                    "l": row.box_left + 1.5,
                    "t": row.box_top - 1.0,
                    "r": row.box_right + 2.0,
                    "b": row.box_bottom,
                    "e": vector_literal(moved),
                },
            )


def _two_people(engine: Engine, seed: int) -> tuple[uuid.UUID, list[uuid.UUID], list[uuid.UUID]]:
    rng = np.random.default_rng(seed)
    session = uuid.uuid4()
    anna = [add_photo(engine, session, [f]).photo_id for f in person_faces(rng, 5)]
    boris = [add_photo(engine, session, [f]).photo_id for f in person_faces(rng, 5)]
    return session, anna, boris


def _person_of(people: dict[uuid.UUID, set[uuid.UUID]], photo: uuid.UUID) -> uuid.UUID:
    return next(person for person, photos in people.items() if photo in photos)


def test_a_merge_survives_a_regroup_and_a_reindex(
    client: TestClient, work: AppContext, own_engine: Engine
) -> None:
    session, anna, boris = _two_people(own_engine, 31)
    regroup_session(work.work, session)
    before = _people(own_engine, session)
    assert len(before) == 2
    a, b = _person_of(before, anna[0]), _person_of(before, boris[0])

    merged = client.post(
        f"/api/v1/sessions/{session}/people/{a}/merge", json={"into": str(b)}, headers=ADMIN
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["face_count"] == 10
    assert _people(own_engine, session) == {b: set(anna) | set(boris)}

    regroup_session(work.work, session)
    assert _people(own_engine, session) == {b: set(anna) | set(boris)}
    _reindex(own_engine, session, 1)
    regroup_session(work.work, session)
    assert _people(own_engine, session) == {b: set(anna) | set(boris)}

    gone = client.post(
        f"/api/v1/sessions/{session}/people/{a}/merge", json={"into": str(b)}, headers=ADMIN
    )
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "PERSON_NOT_FOUND"
    itself = client.post(
        f"/api/v1/sessions/{session}/people/{b}/merge", json={"into": str(b)}, headers=ADMIN
    )
    assert itself.status_code == 409
    assert itself.json()["error"]["code"] == "SAME_PERSON"


def test_a_split_survives_a_regroup_and_a_reindex(
    client: TestClient, work: AppContext, own_engine: Engine
) -> None:
    session, anna, _ = _two_people(own_engine, 32)
    regroup_session(work.work, session)
    a = _person_of(_people(own_engine, session), anna[0])
    faces = client.get(f"/api/v1/sessions/{session}/people/{a}/faces", headers=ADMIN).json()
    assert faces["total"] == 5
    out = [f["face_id"] for f in faces["faces"] if f["photo_id"] in {str(p) for p in anna[:2]}]

    split = client.post(
        f"/api/v1/sessions/{session}/people/{a}/split", json={"face_ids": out}, headers=ADMIN
    )
    assert split.status_code == 201, split.text
    new = uuid.UUID(split.json()["id"])
    expected = {a: set(anna[2:]), new: set(anna[:2])}
    assert {p: s for p, s in _people(own_engine, session).items() if p in expected} == expected

    regroup_session(work.work, session)  # alone, the five faces would be one person again
    assert {p: s for p, s in _people(own_engine, session).items() if s & set(anna)} == expected
    _reindex(own_engine, session, 2)
    regroup_session(work.work, session)
    assert {p: s for p, s in _people(own_engine, session).items() if s & set(anna)} == expected

    refused = client.post(
        f"/api/v1/sessions/{session}/people/{a}/split", json={"face_ids": [1]}, headers=ADMIN
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "FACE_NOT_OF_PERSON"


def test_a_name_survives_a_regroup_and_a_reindex(
    client: TestClient, work: AppContext, own_engine: Engine
) -> None:
    session, anna, boris = _two_people(own_engine, 33)
    regroup_session(work.work, session)
    a = _person_of(_people(own_engine, session), anna[0])
    named = client.patch(
        f"/api/v1/sessions/{session}/people/{a}", json={"name": "  Анна  "}, headers=ADMIN
    )
    assert named.status_code == 200, named.text
    assert named.json()["name"] == "Анна"

    def name_of_annas_person() -> str | None:
        people = client.get(f"/api/v1/sessions/{session}/people", headers=ADMIN).json()["people"]
        person = _person_of(_people(own_engine, session), anna[0])
        return next(p["name"] for p in people if p["id"] == str(person))

    regroup_session(work.work, session)
    assert name_of_annas_person() == "Анна"
    _reindex(own_engine, session, 3)  # new face ids: without the pins, new person ids
    regroup_session(work.work, session)
    assert name_of_annas_person() == "Анна"
    assert _person_of(_people(own_engine, session), anna[0]) == a
    people = client.get(f"/api/v1/sessions/{session}/people", headers=ADMIN).json()["people"]
    assert sorted(p["name"] or "" for p in people) == ["", "Анна"]  # Boris has none
    assert _person_of(_people(own_engine, session), boris[0]) != a
