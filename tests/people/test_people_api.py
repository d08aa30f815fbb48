"""GET /api/v1/sessions/{id}/people and /people/{person_id}/photos: auth, pages, 404s."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from facepass.app import create_app
from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.guest.signing import MediaSigner
from facepass.people.tasks import regroup_session
from tests.conftest import ADMIN_TOKEN
from tests.people.conftest import add_photo, person_faces
from tests.search.conftest import search_settings

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class PeopleWorld:
    session_id: uuid.UUID
    anna_photos: set[uuid.UUID]
    boris_photos: set[uuid.UUID]
    other_session_id: uuid.UUID


@pytest.fixture(scope="module")
def settings(
    own_db_url: str, pixora_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return search_settings(own_db_url, pixora_url, tmp_path_factory.mktemp("people-api"))


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_migrations=False, start_background=False)) as c:
        yield c


@pytest.fixture(scope="module")
def world(settings: Settings, own_engine: Engine) -> Iterator[PeopleWorld]:
    rng = np.random.default_rng(20)
    anna, boris, carl = person_faces(rng, 7), person_faces(rng, 3), person_faces(rng, 1)
    session, other = uuid.uuid4(), uuid.uuid4()
    anna_photos, boris_photos = set(), set()
    for index, face in enumerate(anna):
        faces = [face] + ([boris[index]] if index < len(boris) else [])
        photo = add_photo(own_engine, session, faces)
        anna_photos.add(photo.photo_id)
        if index < len(boris):
            boris_photos.add(photo.photo_id)
    add_photo(own_engine, session, carl)
    add_photo(own_engine, other, anna[:2])
    app_context = AppContext.build(settings)
    try:
        regroup_session(app_context.work, session)
        regroup_session(app_context.work, other)
    finally:
        app_context.close()
    return PeopleWorld(session, anna_photos, boris_photos, other)


def test_admin_token_is_required(client: TestClient, world: PeopleWorld) -> None:
    for path in ("people", f"people/{uuid.uuid4()}/photos"):
        url = f"/api/v1/sessions/{world.session_id}/{path}"
        assert client.get(url).status_code == 401
        refused = client.get(url, headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "UNAUTHORIZED"


def test_people_are_listed_most_faces_first_with_a_signed_cover(
    client: TestClient, world: PeopleWorld, settings: Settings
) -> None:
    response = client.get(f"/api/v1/sessions/{world.session_id}/people", headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 3
    assert body["model_id"] == "dlib-resnet-v1"
    assert body["grouped_at"] is not None
    counts = [(p["face_count"], p["photo_count"]) for p in body["people"]]
    assert counts == [(7, 7), (3, 3), (1, 1)]
    cover = body["people"][0]["cover"]
    assert uuid.UUID(cover["photo_id"]) in world.anna_photos
    assert cover["box"][0] < cover["box"][2]
    assert cover["photo_width"] == 640
    path, query = cover["thumb_url"].split("?")
    assert path == f"/media/{cover['photo_id']}/thumb"
    fields = dict(part.split("=", 1) for part in query.split("&"))
    assert settings.media_signing_key is not None
    signer = MediaSigner(settings.media_signing_key, settings.media_url_ttl_s)
    signer.verify(cover["photo_id"], "thumb", fields["exp"], fields["sig"])  # raises if forged

    page = client.get(
        f"/api/v1/sessions/{world.session_id}/people",
        params={"limit": 1, "offset": 1, "min_faces": 2},
        headers=ADMIN,
    ).json()
    assert page["total"] == 2
    assert [p["face_count"] for p in page["people"]] == [3]


def test_a_persons_photos_are_paginated(client: TestClient, world: PeopleWorld) -> None:
    people = client.get(f"/api/v1/sessions/{world.session_id}/people", headers=ADMIN).json()
    anna = people["people"][0]["id"]
    url = f"/api/v1/sessions/{world.session_id}/people/{anna}/photos"
    seen: list[str] = []
    for offset in (0, 4):
        page = client.get(url, params={"limit": 4, "offset": offset}, headers=ADMIN).json()
        assert page["total"] == 7
        assert page["limit"] == 4
        seen += page["photo_ids"]
    assert {uuid.UUID(p) for p in seen} == world.anna_photos
    assert len(seen) == 7


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "many"}]
)
def test_page_bounds_are_enforced(
    client: TestClient, world: PeopleWorld, params: dict[str, object]
) -> None:
    people = client.get(f"/api/v1/sessions/{world.session_id}/people", headers=ADMIN).json()
    url = f"/api/v1/sessions/{world.session_id}/people/{people['people'][0]['id']}/photos"
    response = client.get(url, params=params, headers=ADMIN)
    assert response.status_code == 422
    assert "error" in response.json()


def test_unknown_people_and_people_of_other_sessions_are_not_found(
    client: TestClient, world: PeopleWorld
) -> None:
    other = client.get(f"/api/v1/sessions/{world.other_session_id}/people", headers=ADMIN).json()
    foreign = other["people"][0]["id"]
    for person in (uuid.uuid4(), foreign):
        response = client.get(
            f"/api/v1/sessions/{world.session_id}/people/{person}/photos", headers=ADMIN
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "PERSON_NOT_FOUND"
    empty = client.get(f"/api/v1/sessions/{uuid.uuid4()}/people", headers=ADMIN).json()
    assert empty["total"] == 0
    assert empty["people"] == []


def test_the_endpoints_and_their_errors_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    listed = paths["/api/v1/sessions/{session_id}/people"]["get"]
    photos = paths["/api/v1/sessions/{session_id}/people/{person_id}/photos"]["get"]
    assert {"200", "401", "422"} <= set(listed["responses"])
    assert {"200", "401", "404", "422"} <= set(photos["responses"])
