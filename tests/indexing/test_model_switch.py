"""The default model changed (dlib's ResNet -> Intel's re-identification network): sessions
indexed with dlib keep it, new photos included, until `facepass reindex` moves them, and their
search finds the guest's photos at every moment of the move (through the API)."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from facepass.app import create_app
from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.demo_photos import astronaut_selfie
from facepass.engine import FaceEngine, get_engine
from facepass.engine.config import DEFAULT_EMBEDDER
from facepass.engine_config import engine_config
from facepass.indexing.pipeline import IndexingContext, index_photo
from facepass.indexing.reindex import start_reindex
from facepass.indexing.tasks import run_batch
from facepass.photos.vector_index import ensure_vector_index
from tests.conftest import ADMIN_TOKEN
from tests.indexing.conftest import add_photo
from tests.indexing.test_reindex import faces_by_model
from tests.photos.images import face_jpeg, faceless_jpeg
from tests.search.conftest import create_pixora_session, jpeg

OLD_MODEL = "dlib-resnet-v1"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def context(settings: Settings) -> Iterator[AppContext]:
    resources = AppContext.build(settings)
    yield resources
    resources.close()


def old_default(settings: Settings) -> FaceEngine:
    """The engine a deployment ran before the switch: the same settings, dlib's ResNet."""
    return get_engine(dataclasses.replace(engine_config(settings), embedder=OLD_MODEL))


def found(client: TestClient, session_id: uuid.UUID) -> tuple[str, set[str]]:
    selfie = jpeg(astronaut_selfie())
    response = client.post(
        f"/api/v1/sessions/{session_id}/search",
        files=[("selfie", ("selfie.jpg", selfie, "image/jpeg"))],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return body["model_id"], {m["photo_id"] for m in body["matches"]}


def index_status(client: TestClient, session_id: uuid.UUID) -> dict[str, object]:
    response = client.get(f"/api/v1/sessions/{session_id}/index-status", headers=ADMIN)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_dlib_session_keeps_working_and_reindex_moves_it_without_a_gap(
    settings: Settings, context: AppContext, own_db: Engine, pixora_admin_url: str
) -> None:
    assert DEFAULT_EMBEDDER != OLD_MODEL
    session_id = create_pixora_session(pixora_admin_url)
    old = IndexingContext(context.work, "before-the-switch", old_default(settings))
    with context.own_db.session() as db:
        ensure_vector_index(db.connection(), OLD_MODEL, 128)
    guest = [add_photo(context, session_id, face_jpeg(side)) for side in (512, 480)]
    other = add_photo(context, session_id, faceless_jpeg())
    for photo in [*guest, other]:
        assert index_photo(old, photo) == "indexed"

    # The deployment now runs the new default.
    new = IndexingContext(context.work, "after-the-switch", context.engines.get())
    assert new.engine.model_id == DEFAULT_EMBEDDER
    with context.own_db.session() as db:
        ensure_vector_index(db.connection(), DEFAULT_EMBEDDER, new.engine.embedding_dim)
    with TestClient(create_app(settings, start_background=False)) as client:
        # A photo uploaded after the switch joins the session's own (dlib) index.
        guest.append(add_photo(context, session_id, face_jpeg(448)))
        assert index_photo(new, guest[-1]) == "indexed"
        assert faces_by_model(own_db, session_id) == {OLD_MODEL: 3}
        everyone = {str(p) for p in guest}
        assert found(client, session_id) == (OLD_MODEL, everyone)

        with context.own_db.session() as db:
            queued = start_reindex(db, session_id, DEFAULT_EMBEDDER)
        assert sorted(queued) == sorted([*guest, other])
        status = index_status(client, session_id)
        assert status["model"] == {"active": OLD_MODEL, "building": DEFAULT_EMBEDDER}
        # Nothing indexed by the new model yet, then half of it: searches use the old faces.
        assert found(client, session_id) == (OLD_MODEL, everyone)
        for photo in queued[:2]:  # the queue's own task, as a worker runs it
            assert run_batch(new, [str(photo)]) == Counter(indexed=1)
            assert found(client, session_id) == (OLD_MODEL, everyone)
            assert index_status(client, session_id)["model"] == {
                "active": OLD_MODEL,
                "building": DEFAULT_EMBEDDER,
            }
        assert run_batch(new, [str(p) for p in queued[2:]]) == Counter(indexed=len(queued) - 2)
        # Complete: the session switched in one step and the old faces are gone.
        assert index_status(client, session_id)["model"] == {
            "active": DEFAULT_EMBEDDER,
            "building": None,
        }
        assert faces_by_model(own_db, session_id) == {DEFAULT_EMBEDDER: 3}
        assert found(client, session_id) == (DEFAULT_EMBEDDER, everyone)


def test_a_new_session_is_indexed_with_the_new_default(
    settings: Settings, context: AppContext, own_db: Engine
) -> None:
    session_id = uuid.uuid4()
    new = IndexingContext(context.work, "worker", context.engines.get())
    photo = add_photo(context, session_id, face_jpeg())
    assert index_photo(new, photo) == "indexed"
    assert faces_by_model(own_db, session_id) == {DEFAULT_EMBEDDER: 1}
