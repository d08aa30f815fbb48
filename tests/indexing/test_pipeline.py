"""Indexing one photo: idempotent, guarded by its claim, failing alone, retrying outages."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.engine import get_engine
from facepass.engine.config import DEFAULT_EMBEDDER
from facepass.indexing.pipeline import (
    IndexingContext,
    TransientIndexingError,
    claim,
    finish,
    index_photo,
)
from facepass.photos.storage import S3Storage
from tests.indexing.conftest import add_photo
from tests.photos.images import corrupt_jpeg, face_jpeg
from tests.pixora.fixtures import closed_port


@pytest.fixture
def app_context(settings: Settings) -> Iterator[AppContext]:
    built = AppContext.build(settings)
    yield built
    built.close()


def context(app_context: AppContext, worker_id: str = "test-worker") -> IndexingContext:
    return IndexingContext(app_context.work, worker_id, get_engine())


def faces_of(own_db: Engine, photo_id: uuid.UUID) -> list[tuple[str, bool]]:
    with own_db.connect() as conn:
        rows = conn.execute(
            text("SELECT model_id, indexable FROM faces WHERE photo_id = :p"), {"p": photo_id}
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def status_of(own_db: Engine, photo_id: uuid.UUID) -> tuple[str, str | None, int]:
    with own_db.connect() as conn:
        row = conn.execute(
            text("SELECT status, failure_code, attempts FROM photos WHERE id = :p"),
            {"p": photo_id},
        ).one()
    return row.status, row.failure_code, row.attempts


def test_indexing_again_replaces_faces_instead_of_adding(app_context, own_db) -> None:
    ctx = context(app_context)
    photo_id = add_photo(app_context, uuid.uuid4(), face_jpeg())
    assert index_photo(ctx, photo_id) == "indexed"
    assert index_photo(ctx, photo_id) == "skipped"  # a duplicate message changes nothing
    with own_db.begin() as conn:
        conn.execute(text("UPDATE photos SET status = 'pending' WHERE id = :p"), {"p": photo_id})
    assert index_photo(ctx, photo_id) == "indexed"
    assert faces_of(own_db, photo_id) == [(DEFAULT_EMBEDDER, True)]
    assert status_of(own_db, photo_id) == ("indexed", None, 2)


def test_only_the_latest_claim_may_finish_a_photo(app_context, own_db) -> None:
    photo_id = add_photo(app_context, uuid.uuid4(), face_jpeg())
    slow, fast = context(app_context, "slow-worker"), context(app_context, "fast-worker")
    stale = claim(slow, photo_id)
    assert stale is not None
    assert claim(fast, photo_id) is None  # held by a live claim
    with own_db.begin() as conn:  # what the reconciler does when the slow worker looks dead
        conn.execute(text("UPDATE photos SET status = 'pending' WHERE id = :p"), {"p": photo_id})
    assert index_photo(fast, photo_id) == "indexed"
    analysis = get_engine().analyze(face_jpeg())
    assert finish(slow, stale, analysis, b"") is False
    assert len(faces_of(own_db, photo_id)) == 1


def test_a_corrupt_photo_fails_with_its_reason_and_is_not_retried(app_context, own_db) -> None:
    ctx = context(app_context)
    photo_id = add_photo(app_context, uuid.uuid4(), corrupt_jpeg())
    assert index_photo(ctx, photo_id) == "failed"
    assert status_of(own_db, photo_id) == ("failed", "CORRUPT_IMAGE", 1)
    assert index_photo(ctx, photo_id) == "skipped"


def test_a_photo_that_keeps_failing_gives_up_after_max_attempts(app_context, own_db) -> None:
    ctx = context(app_context)
    photo_id = add_photo(app_context, uuid.uuid4(), face_jpeg())
    limit = app_context.settings.index_max_attempts
    with own_db.begin() as conn:
        conn.execute(
            text("UPDATE photos SET attempts = :n WHERE id = :p"), {"n": limit, "p": photo_id}
        )
    assert index_photo(ctx, photo_id) == "skipped"
    assert status_of(own_db, photo_id) == ("failed", "INDEXING_FAILED", limit + 1)


def test_storage_outage_releases_the_photo_for_a_retry(app_context, own_db, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    photo_id = add_photo(app_context, uuid.uuid4(), face_jpeg())
    # Real network failure: an S3 endpoint where nothing listens.
    unreachable = S3Storage(
        "photos", endpoint_url=f"http://127.0.0.1:{closed_port()}", region="us-east-1"
    )
    work = dataclasses.replace(app_context.work, storage=unreachable)
    with pytest.raises(TransientIndexingError):
        index_photo(IndexingContext(work, "test-worker", get_engine()), photo_id)
    assert status_of(own_db, photo_id) == ("pending", None, 1)
