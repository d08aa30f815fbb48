"""A studio removes a person of the people view: every face of the person leaves for good."""

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
from tests.access.conftest import audit_rows
from tests.conftest import ADMIN_TOKEN
from tests.people.conftest import add_photo, own_engine, person_faces
from tests.search.conftest import search_settings

__all__ = ["own_engine"]

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def settings(own_db_url: str, pixora_url: str, tmp_path: object) -> Settings:
    return search_settings(own_db_url, pixora_url, tmp_path)  # type: ignore[arg-type]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_migrations=False, start_background=False)) as c:
        yield c


def _people(client: TestClient, session_id: uuid.UUID) -> dict[str, int]:
    response = client.get(f"/api/v1/sessions/{session_id}/people", headers=ADMIN)
    assert response.status_code == 200, response.text
    return {p["id"]: p["face_count"] for p in response.json()["people"]}


def test_removing_a_person_deletes_and_suppresses_every_face_of_theirs(
    client: TestClient, settings: Settings, own_engine: Engine
) -> None:
    rng = np.random.default_rng(9)
    anna, boris = person_faces(rng, 5), person_faces(rng, 3)
    session = uuid.uuid4()
    for index, face in enumerate(anna):
        add_photo(own_engine, session, [face] + ([boris[index]] if index < len(boris) else []))
    app_context = AppContext.build(settings)
    try:
        regroup_session(app_context.work, session)
        people = _people(client, session)
        assert sorted(people.values()) == [3, 5]
        anna_id = next(pid for pid, faces in people.items() if faces == 5)

        removed = client.delete(f"/api/v1/sessions/{session}/people/{anna_id}", headers=ADMIN)
        assert removed.status_code == 200, removed.text
        assert removed.json()["faces_removed"] == 5
        assert removed.json()["photos_affected"] == 5

        assert sorted(_people(client, session).values()) == [3]
        regroup_session(app_context.work, session)  # regrouping finds nothing of her to group again
        assert sorted(_people(client, session).values()) == [3]
    finally:
        app_context.close()
    with own_engine.connect() as conn:
        faces = conn.execute(
            text("SELECT count(*) FROM faces WHERE session_id = :s"), {"s": session}
        ).scalar_one()
        person = conn.execute(
            text("SELECT count(*) FROM people WHERE id = :p"), {"p": anna_id}
        ).scalar_one()
    assert faces == 3  # Boris's faces only
    assert person == 0  # the person's centroid, made from her faces, is gone too

    again = client.delete(f"/api/v1/sessions/{session}/people/{anna_id}", headers=ADMIN)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "PERSON_NOT_FOUND"
    assert settings.database_url is not None
    rows = audit_rows(settings.database_url, session)
    assert [(r["actor"], r["action"], r["counts"]["faces"]) for r in rows] == [
        ("operator", "person_removal", 5)
    ]
