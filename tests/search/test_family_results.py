"""'Me and my family': several people's results tokens become one gallery and one token, each
photo marked with who is in it; the token says so again tomorrow."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.guest.tokens import FoundPhoto, GuestTokens
from tests.search.conftest import SearchWorld


@pytest.fixture
def client(world: SearchWorld) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings, start_background=False)) as test_client:
        yield test_client


def _token(world: SearchWorld, session: uuid.UUID, photos: list[uuid.UUID], hours: int) -> str:
    tokens = GuestTokens(world.settings.media_signing_key or "")
    found = [FoundPhoto(photo, (10, 10, 60, 60)) for photo in photos]
    return tokens.results_token(session, found, int(time.time()) + hours * 3600)


def test_two_peoples_results_are_one_gallery_marked_with_who_is_in_each(
    client: TestClient, world: SearchWorld
) -> None:
    a, b, c = sorted(world.main.astronaut_photos)[:3]
    session = world.main.session_id
    mine = _token(world, session, [a, b], hours=48)
    theirs = _token(world, session, [b, c], hours=24)
    url = f"/api/v1/sessions/{session}/results/merge"
    answer = client.post(url, json={"results_tokens": [mine, theirs]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["people"] == 2
    marked = {uuid.UUID(m["photo_id"]): m["people"] for m in body["matches"]}
    assert marked == {a: [0], b: [0, 1], c: [1]}
    assert body["results_expires_at"] <= time.time() + 24 * 3600  # ends with the first

    # The merged token is a results token like any other: /results reads it, marks kept.
    again = client.get(
        f"/api/v1/sessions/{session}/results", params={"token": body["results_token"]}
    )
    assert again.status_code == 200
    assert {uuid.UUID(m["photo_id"]): m["people"] for m in again.json()["matches"]} == marked

    # A third person joins the family token: numbered after the first two.
    third = _token(world, session, [a], hours=24)
    answer = client.post(url, json={"results_tokens": [body["results_token"], third]})
    assert answer.json()["people"] == 3
    marked = {uuid.UUID(m["photo_id"]): m["people"] for m in answer.json()["matches"]}
    assert marked == {a: [0, 2], b: [0, 1], c: [1]}


def test_tokens_of_another_event_or_too_many_people_are_refused(
    client: TestClient, world: SearchWorld
) -> None:
    photo = next(iter(world.main.astronaut_photos))
    session = world.main.session_id
    mine = _token(world, session, [photo], hours=1)
    elsewhere = _token(world, world.other.session_id, [photo], hours=1)
    url = f"/api/v1/sessions/{session}/results/merge"
    answer = client.post(url, json={"results_tokens": [mine, elsewhere]})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "INVALID_TOKEN"
    forged = client.post(url, json={"results_tokens": [mine, mine[:-3] + "AAA"]})
    assert forged.status_code == 403
    five = client.post(url, json={"results_tokens": [mine] * 5})
    assert five.status_code == 422  # more than four tokens, refused by the schema
    family = client.post(url, json={"results_tokens": [mine] * 4}).json()["results_token"]
    too_many = client.post(url, json={"results_tokens": [family, mine]})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "TOO_MANY_PEOPLE"
