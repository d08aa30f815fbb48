"""A session of real people (LFW): two guests' photos indexed through the real pipeline."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.composition.context import AppContext
from facepass.config import Settings
from tests.conftest import shared_data
from tests.liveness.pairs import Pairs, live_form, live_pairs
from tests.search.conftest import add_indexed_photo, create_pixora_session, search_settings

GUEST_A = "Colin_Powell"
GUEST_B = "George_W_Bush"
PHOTOS_EACH = 4


LIVE_CANDIDATES = 24  # a guest's photos (none in the session) among which a live pair is picked


def lfw_photo(person: str, number: int) -> bytes:
    return shared_data(
        "lfw", "images_deepfunneled", person, f"{person}_{number:04d}.jpg"
    ).read_bytes()


@dataclass
class PrivacyWorld:
    settings: Settings
    app_context: AppContext
    session_id: uuid.UUID
    photos: dict[str, set[uuid.UUID]] = field(default_factory=dict)
    data: dict[uuid.UUID, bytes] = field(default_factory=dict)

    def selfie(self, person: str) -> bytes:
        return lfw_photo(person, PHOTOS_EACH + 1)  # a photo that is not in the session

    def live_pairs(self, person: str, first: int = PHOTOS_EACH + 1) -> Pairs:
        """A frontal and a turned photo of the person (none in the session) that make a live
        pair, per direction: an opt-out always needs one."""
        folder = shared_data("lfw", "images_deepfunneled", person)
        numbers = range(first, first + LIVE_CANDIDATES)
        paths = [folder / f"{person}_{n:04d}.jpg" for n in numbers]
        return live_pairs([p.read_bytes() for p in paths if p.exists()])


def live_opt_out(client: Any, session_id: uuid.UUID, pairs: Pairs, **kwargs: Any) -> Any:
    """POST .../opt-out with a live pair answering a fresh challenge."""

    def issue() -> Any:
        answer = client.post(f"/api/v1/sessions/{session_id}/challenge")
        assert answer.status_code == 200, answer.text
        return answer.json()

    form = live_form(issue, pairs, data=kwargs.pop("data", None))
    return client.post(f"/api/v1/sessions/{session_id}/opt-out", **form, **kwargs)


@pytest.fixture(scope="module")
def world(
    own_db_url: str,
    pixora_url: str,
    pixora_admin_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PrivacyWorld]:
    settings = search_settings(
        own_db_url,
        pixora_url,
        tmp_path_factory.mktemp("privacy"),
        search_rate_limit="1000/minute",
        search_device_rate_limit="1000/minute",
        opt_out_rate_limit="1000/hour",  # the opt-out's own limits have a test of their own
        opt_out_device_rate_limit="1000/hour",
    )
    app_context = AppContext.build(settings)
    world = PrivacyWorld(settings, app_context, create_pixora_session(pixora_admin_url))
    for person in (GUEST_A, GUEST_B):
        world.photos[person] = set()
        for number in range(1, PHOTOS_EACH + 1):
            data = lfw_photo(person, number)
            photo_id = add_indexed_photo(
                app_context, world.session_id, data, f"{person}-{number}.jpg"
            )
            world.photos[person].add(photo_id)
            world.data[photo_id] = data
    yield world
    app_context.close()


@pytest.fixture
def client(world: PrivacyWorld) -> Iterator[TestClient]:
    app = create_app(world.settings, run_migrations=False, start_background=False)
    with TestClient(app) as test_client:
        yield test_client


def search(client: TestClient, session_id: uuid.UUID, selfie: bytes) -> set[uuid.UUID]:
    """The photo ids a guest's search finds."""
    response = client.post(
        f"/api/v1/sessions/{session_id}/search",
        files=[("selfie", ("selfie.jpg", selfie, "image/jpeg"))],
    )
    assert response.status_code == 200, response.text
    return {uuid.UUID(m["photo_id"]) for m in response.json()["matches"]}
