"""The embedded default end to end: photos uploaded, indexed in-process, grouped in the
background after a quiet gap, and regrouped (same person id) when more photos arrive."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.config import Settings
from facepass.demo_photos import demo_photo_set
from tests.photos.conftest import ADMIN, upload, wait_until_indexed
from tests.pixora.fixtures import make_session, pixora_admin_engine

__all__ = ["make_session", "pixora_admin_engine"]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    quick = settings.model_copy(update={"people_regroup_delay_s": 0.3})
    with TestClient(create_app(quick, run_migrations=False, start_background=True)) as c:
        yield c


def _people_when(
    client: TestClient, session_id: uuid.UUID, ready: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = client.get(
            f"/api/v1/sessions/{session_id}/people", headers=ADMIN
        ).json()
        if ready(body):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def test_people_follow_the_photos_as_they_are_indexed(
    client: TestClient, make_session: Callable[..., uuid.UUID]
) -> None:
    session_id = make_session()
    astronaut = [p for p in demo_photo_set() if p.shows_astronaut]
    first = [(p.filename, p.data) for p in astronaut[:3]]
    assert upload(client, session_id, first).status_code == 200
    wait_until_indexed(client, session_id)
    body = _people_when(client, session_id, lambda b: b["total"] >= 1)
    her = body["people"][0]
    assert her["face_count"] == 3

    more = [(p.filename, p.data) for p in astronaut[3:]]
    assert upload(client, session_id, more).status_code == 200
    wait_until_indexed(client, session_id)
    grown = _people_when(
        client, session_id, lambda b: b["people"] and b["people"][0]["face_count"] > 3
    )
    assert grown["people"][0]["id"] == her["id"]  # the same person, grown
    assert grown["people"][0]["photo_count"] >= 5
