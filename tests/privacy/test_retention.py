"""Retention: faces go N days after Pixora's completed_at, photos after M, switched-off sessions
N days after the sync saw them off; recent sessions are left alone."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from facepass.cli import main
from facepass.composition.context import AppContext
from facepass.config import Settings, get_settings
from facepass.observability.metrics import RETENTION_PURGED
from facepass.privacy.retention import PurgeReport, purge
from tests.access.conftest import audit_rows
from tests.photos.images import face_jpeg
from tests.pixora.fixtures import SessionFactory, make_session, pixora_admin_engine
from tests.search.conftest import add_indexed_photo

__all__ = ["make_session", "pixora_admin_engine"]

DAYS = 90


@pytest.fixture
def app_context(settings: Settings) -> Iterator[AppContext]:
    owned = AppContext.build(settings.model_copy(update={"face_retention_days": DAYS}))
    yield owned
    owned.close()


def _purge(context: AppContext, **options: Any) -> PurgeReport:
    return purge(context.own_db, context.pixora, context.storage, context.settings, **options)


def _counts(app_context: AppContext, session_id: uuid.UUID) -> tuple[int, int]:
    with app_context.own_db.session() as db:
        faces = db.execute(
            text("SELECT count(*) FROM faces WHERE session_id = :s AND embedding IS NOT NULL"),
            {"s": session_id},
        ).scalar_one()
        photos = db.execute(
            text("SELECT count(*) FROM photos WHERE session_id = :s"), {"s": session_id}
        ).scalar_one()
    return int(faces), int(photos)


def _session_with_a_face(
    app_context: AppContext, make_session: SessionFactory, **row: object
) -> uuid.UUID:
    session_id = make_session(**row)
    add_indexed_photo(app_context, session_id, face_jpeg(side=400), "face.jpg")
    assert _counts(app_context, session_id) == (1, 1)
    return session_id


def test_a_pass_purges_embeddings_of_a_session_completed_n_plus_1_days_ago_only(
    app_context: AppContext, make_session: SessionFactory
) -> None:
    now = datetime.now(UTC)
    old = _session_with_a_face(
        app_context, make_session, completed_at=now - timedelta(days=DAYS + 1)
    )
    recent = _session_with_a_face(app_context, make_session, completed_at=now - timedelta(days=1))
    running = _session_with_a_face(app_context, make_session)  # not completed yet
    mine = [old, recent, running]

    preview = _purge(app_context, dry_run=True, session_ids=mine)
    assert [(d.session_id, d.kind) for d in preview.due] == [(old, "faces")]
    assert _counts(app_context, old) == (1, 1)  # a dry run deletes nothing

    before = RETENTION_PURGED.labels("faces")._value.get()
    report = _purge(app_context, session_ids=mine)
    assert [d.session_id for d in report.due] == [old]
    assert _counts(app_context, old) == (0, 1)  # embeddings gone, photos kept (default)
    assert _counts(app_context, recent) == (1, 1)
    assert _counts(app_context, running) == (1, 1)
    assert RETENTION_PURGED.labels("faces")._value.get() == before + 1
    assert app_context.settings.database_url is not None
    rows = audit_rows(app_context.settings.database_url, old)
    assert [(r["actor"], r["action"], r["counts"]["faces"]) for r in rows] == [
        ("retention", "purge", 1)
    ]
    assert audit_rows(app_context.settings.database_url, recent) == []
    # A second pass finds nothing more to do.
    assert _purge(app_context, session_ids=mine).due == []


def test_photos_go_after_their_own_period_and_switched_off_sessions_entirely(
    app_context: AppContext, make_session: SessionFactory
) -> None:
    now = datetime.now(UTC)
    photo_days = app_context.settings.model_copy(update={"photo_retention_days": 30})
    with_photos = AppContext.build(photo_days)
    try:
        old = _session_with_a_face(with_photos, make_session, completed_at=now - timedelta(days=31))
        off = _session_with_a_face(with_photos, make_session, facepass_enabled=False)
        off_recently = _session_with_a_face(with_photos, make_session, facepass_enabled=False)
        with with_photos.own_db.session() as db:
            for session_id, days in ((off, DAYS + 1), (off_recently, 2)):
                db.execute(
                    text(
                        "INSERT INTO session_snapshots (session_id, present, facepass_enabled,"
                        " status, changed_at) VALUES (:s, true, false, 'created', :at)"
                    ),
                    {"s": session_id, "at": now - timedelta(days=days)},
                )
            key = db.execute(
                text("SELECT storage_key FROM photos WHERE session_id = :s"), {"s": old}
            ).scalar_one()
        assert with_photos.storage.exists(key)
        report = _purge(with_photos, session_ids=[old, off, off_recently])
        assert {(d.session_id, d.kind) for d in report.due} == {(old, "photos"), (off, "session")}
        assert _counts(with_photos, old) == (0, 0)
        assert not with_photos.storage.exists(key)  # the original and thumbnails are gone
        assert _counts(with_photos, off) == (0, 0)
        assert _counts(with_photos, off_recently) == (1, 1)
    finally:
        with_photos.close()


def test_purge_dry_run_from_the_command_line(
    app_context: AppContext, make_session: SessionFactory, settings: Settings
) -> None:
    old = _session_with_a_face(
        app_context, make_session, completed_at=datetime.now(UTC) - timedelta(days=DAYS + 5)
    )
    assert settings.database_url is not None
    assert settings.main_app_database_url is not None
    env = {
        "FACEPASS_DATABASE_URL": settings.database_url,
        "MAIN_APP_DATABASE_URL": settings.main_app_database_url,
        "FACEPASS_FACE_RETENTION_DAYS": str(DAYS),
    }
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["purge", "--dry-run", "--session", str(old)], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is True
    assert [(d["session_id"], d["kind"], d["faces"]) for d in report["due"]] == [
        (str(old), "faces", 1)
    ]
    assert _counts(app_context, old) == (1, 1)


def test_the_periodic_sync_worker_enforces_retention(
    settings: Settings, make_session: SessionFactory
) -> None:
    from facepass.composition.background_sync import BackgroundSync

    worker_settings = settings.model_copy(
        update={"face_retention_days": DAYS, "retention_interval_s": 0.2, "sync_interval_s": 0}
    )
    app_context = AppContext.build(worker_settings)
    try:
        old = _session_with_a_face(
            app_context, make_session, completed_at=datetime.now(UTC) - timedelta(days=DAYS + 1)
        )
        sync = BackgroundSync(app_context).start()
        try:
            deadline = time.monotonic() + 10
            while _counts(app_context, old) != (0, 1) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            sync.stop()
        assert _counts(app_context, old) == (0, 1)
    finally:
        app_context.close()


def test_purged_faces_stay_purged_through_reindexing_and_new_uploads(
    app_context: AppContext, make_session: SessionFactory, pixora_admin_engine: Engine
) -> None:
    from facepass.indexing.pipeline import IndexingContext, index_photo

    old = _session_with_a_face(
        app_context, make_session, completed_at=datetime.now(UTC) - timedelta(days=DAYS + 1)
    )
    _purge(app_context, session_ids=[old])
    assert _counts(app_context, old) == (0, 1)

    with app_context.own_db.session() as db:
        db.execute(text("UPDATE photos SET status = 'pending' WHERE session_id = :s"), {"s": old})
        photo_id = db.execute(
            text("SELECT id FROM photos WHERE session_id = :s"), {"s": old}
        ).scalar_one()
    context = IndexingContext(app_context.work, "retention-tests", app_context.engines.get())
    assert index_photo(context, photo_id) == "indexed"
    add_indexed_photo(app_context, old, face_jpeg(side=400), "late.jpg")
    assert _counts(app_context, old) == (0, 2)  # indexed, but no face written

    # Pixora moves completed_at: the session is no longer past retention, the mark goes.
    with pixora_admin_engine.connect() as conn:
        conn.execute(
            text("UPDATE photo_sessions SET completed_at = now() WHERE id = :s"), {"s": old}
        )
    assert _purge(app_context, session_ids=[old]).due == []
    with app_context.own_db.session() as db:
        db.execute(text("UPDATE photos SET status = 'pending' WHERE id = :p"), {"p": photo_id})
    assert index_photo(context, photo_id) == "indexed"
    assert _counts(app_context, old) == (1, 2)
