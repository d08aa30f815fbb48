"""Sync passes notice FacePass status changes in Pixora and turn them into webhook events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from facepass.composition.background_sync import BackgroundSync
from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.pixora.errors import PixoraUnavailable
from facepass.pixora.validation import validate_session
from facepass.sync.service import SyncReport, sync_sessions
from facepass.webhooks.signing import verify
from tests.pixora.fixtures import closed_port, set_facepass, url_with_password_at
from tests.webhooks.receiver import Receiver

SECRET = "whsec-test-0123456789abcdef"


@pytest.fixture
def app_context(settings: Settings, receiver: Receiver) -> Iterator[AppContext]:
    """A context whose webhooks go to the test receiver; this module's tables start empty."""
    hooked = settings.model_copy(
        update={"webhook_urls": receiver.url, "webhook_secret": SECRET, "cache_ttl_s": 300.0}
    )
    owned = AppContext.build(hooked)
    with owned.own_db.session() as db:
        db.execute(text("DELETE FROM webhook_deliveries"))
        db.execute(text("DELETE FROM session_snapshots"))
    yield owned
    owned.close()


def _sync(context: AppContext) -> SyncReport:
    return sync_sessions(context.own_db, context.pixora, context.validation_cache, context.settings)


def _events_for(events: list[dict[str, Any]], session_id: uuid.UUID) -> list[dict[str, Any]]:
    return [e for e in events if e["session_id"] == str(session_id)]


def _delete(engine: Engine, session_id: uuid.UUID) -> None:
    with engine.connect() as conn:
        conn.execute(text("DELETE FROM photo_sessions WHERE id = :id"), {"id": session_id})


def test_first_pass_is_a_silent_baseline(app_context: AppContext, make_session) -> None:
    make_session(facepass_enabled=True)
    report = _sync(app_context)
    assert report.ran
    assert report.baseline
    assert report.sessions >= 3  # the two demo sessions and ours
    assert report.events == []
    assert _sync(app_context).changed == []  # nothing changed since


def test_changes_become_events_and_deliveries(
    app_context: AppContext, make_session, pixora_admin_engine: Engine
) -> None:
    off_session = make_session(facepass_enabled=False)
    _sync(app_context)  # baseline
    new_active = make_session(facepass_enabled=True)
    make_session(facepass_enabled=False)  # new but FacePass off: nothing to announce
    set_facepass(pixora_admin_engine, off_session, True)
    report = _sync(app_context)
    assert sorted(e["session_id"] for e in report.events) == sorted(
        [str(new_active), str(off_session)]
    )
    [turned_on] = _events_for(report.events, off_session)
    assert turned_on["previous"] == {
        "exists": True,
        "facepass_enabled": False,
        "status": "created",
        "active": False,
    }
    assert turned_on["current"]["active"] is True
    [appeared] = _events_for(report.events, new_active)
    assert appeared["previous"]["exists"] is False

    _delete(pixora_admin_engine, new_active)
    gone = _sync(app_context)
    [vanished] = _events_for(gone.events, new_active)
    assert vanished["current"] == {
        "exists": False,
        "facepass_enabled": False,
        "status": None,
        "active": False,
    }
    assert _sync(app_context).changed == []  # a vanished session stays quietly vanished
    with app_context.own_db.session() as db:
        queued = db.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar_one()
    assert queued == 3


def test_a_change_refreshes_the_validation_cache_at_once(
    app_context: AppContext, make_session, pixora_admin_engine: Engine
) -> None:
    session_id = make_session(facepass_enabled=True)
    _sync(app_context)
    assert validate_session(app_context.pixora, app_context.validation_cache, session_id).valid
    set_facepass(pixora_admin_engine, session_id, False)
    assert validate_session(
        app_context.pixora, app_context.validation_cache, session_id
    ).cache_hit  # still the cached answer
    _sync(app_context)
    after = validate_session(app_context.pixora, app_context.validation_cache, session_id)
    assert (after.result, after.cache_hit) == ("disabled", False)


def test_pixora_down_writes_nothing(settings: Settings) -> None:
    broken = settings.model_copy(
        update={"main_app_database_url": url_with_password_at(closed_port())}
    )
    owned = AppContext.build(broken)
    try:
        with pytest.raises(PixoraUnavailable):
            _sync(owned)
    finally:
        owned.close()


def test_background_sync_sends_signed_webhooks_for_a_change(
    app_context: AppContext, make_session, pixora_admin_engine: Engine, receiver: Receiver
) -> None:
    session_id = make_session(facepass_enabled=True)
    _sync(app_context)  # baseline
    set_facepass(pixora_admin_engine, session_id, False)
    quick = AppContext.build(app_context.settings.model_copy(update={"sync_interval_s": 0.2}))
    background = BackgroundSync(quick).start()
    try:
        requests = receiver.wait_for(1)
    finally:
        background.stop()
        quick.close()
    bodies = [json.loads(r.body) for r in requests]
    [event] = [b for b in bodies if b["session_id"] == str(session_id)]
    assert event["previous"]["active"] is True
    assert event["current"]["active"] is False
    assert all(verify(SECRET, r.headers["X-FacePass-Signature"], r.body) for r in requests)
