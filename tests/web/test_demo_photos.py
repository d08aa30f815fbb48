"""The demo session comes with photos of the astronaut, added once after start-up."""

from __future__ import annotations

import hashlib
import time
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from facepass.app import create_app
from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.demo_photos import astronaut_selfie, demo_photo_set, schedule_demo_photos
from facepass.photos.models import Photo
from facepass.pixora.demo import DEMO_SESSION_ID
from tests.search.conftest import jpeg


def _demo_rows(app_context: AppContext) -> dict[str, str]:
    hashes = {hashlib.sha256(p.data).hexdigest(): p.filename for p in demo_photo_set()}
    with app_context.own_db.sessions() as db:
        rows = db.execute(
            select(Photo.sha256, Photo.status).where(
                Photo.session_id == uuid.UUID(DEMO_SESSION_ID), Photo.sha256.in_(hashes)
            )
        ).all()
    return {hashes[row.sha256]: row.status for row in rows}


def test_demo_photos_are_added_once_indexed_and_found(settings: Settings) -> None:
    photos = demo_photo_set()
    assert sum(p.shows_astronaut for p in photos) == 6
    settings = settings.model_copy(update={"search_rate_limit": "100/minute"})
    app_context = AppContext.build(settings)
    app = create_app(settings, context=app_context)
    schedule_demo_photos(app)
    with TestClient(app) as client:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = _demo_rows(app_context)
            if len(states) == len(photos) and set(states.values()) == {"indexed"}:
                break
            time.sleep(0.5)
        assert _demo_rows(app_context) == {p.filename: "indexed" for p in photos}
        response = client.post(
            f"/api/v1/sessions/{DEMO_SESSION_ID}/search",
            files={"selfie": ("me.jpg", jpeg(astronaut_selfie()), "image/jpeg")},
        )
        assert response.status_code == 200
        found = {m["photo_id"] for m in response.json()["matches"]}
    with app_context.own_db.sessions() as db:
        names = dict(db.execute(select(Photo.id, Photo.original_filename)).all())
    found_names = {names[uuid.UUID(i)] for i in found}
    assert {p.filename for p in photos if p.shows_astronaut} <= found_names
    assert not found_names & {p.filename for p in photos if not p.shows_astronaut}

    # A second start adds nothing: the upload service recognises the same bytes.
    from facepass.demo_photos import add_photos

    assert (
        add_photos(
            app_context.own_db,
            app_context.storage,
            app_context.index_queue,
            app_context.settings,
            uuid.UUID(DEMO_SESSION_ID),
            photos,
        )
        == 0
    )
    app_context.close()
