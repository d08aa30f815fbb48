"""Sync passes notice FacePass status changes in Pixora and turn them into webhook events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from facepass.config import Settings
from facepass.pixora.errors import PixoraUnavailable
from facepass.pixora.validation import validate_session
from facepass.resources import Resources
from facepass.sync.service import sync_sessions
from facepass.sync.worker import BackgroundSync
from facepass.webhooks.signing import verify
from tests.pixora.fixtures import closed_port, set_facepass, url_with_password_at
from tests.webhooks.receiver import Receiver

SECRET = "whsec-test-0123456789abcdef"


@pytest.fixture
def resources(settings: Settings, receiver: Receiver) -> Iterator[Resources]:
    """Resources whose webhooks go to the test receiver; this module's tables start empty."""
    hooked = settings.model_copy(
        update={"webhook_urls": receiver.url, "webhook_secret": SECRET, "cache_ttl_s": 300.0}
    )
    owned = Resources(hooked)
    with owned.own_db.session() as db:
        db.execute(text("DELETE FROM webhook_deliveries"))
        db.execute(text("DELETE FROM session_snapshots"))
    yield owned
    owned.close()


def _events_for(events: list[dict[str, Any]], session_id: uuid.UUID) -> list[dict[str, Any]]:
    return [e for e in events if e["session_id"] == str(session_id)]


def _delete(engine: Engine, session_id: uuid.UUID) -> None:
    with engine.connect() as conn:
        conn.execute(text("DELETE FROM photo_sessions WHERE id = :id"), {"id": session_id})


def test_first_pass_is_a_silent_baseline(resources: Resources, make_session) -> None:
    make_session(facepass_enabled=True)
    report = sync_sessions(resources)
    assert report.ran
    assert report.baseline
    assert report.sessions >= 3  # the two demo sessions and ours
    assert report.events == []
    assert sync_sessions(resources).changed == []  # nothing changed since


def test_changes_become_events_and_deliveries(
    resources: Resources, make_session, pixora_admin_engine: Engine
) -> None:
    off_session = make_session(facepass_enabled=False)
    sync_sessions(resources)  # baseline
    new_active = make_session(facepass_enabled=True)
    make_session(facepass_enabled=False)  # new but FacePass off: nothing to announce
    set_facepass(pixora_admin_engine, off_session, True)
    report = sync_sessions(resources)
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
    gone = sync_sessions(resources)
    [vanished] = _events_for(gone.events, new_active)
    assert vanished["current"] == {
        "exists": False,
        "facepass_enabled": False,
        "status": None,
        "active": False,
    }
    assert sync_sessions(resources).changed == []  # a vanished session stays quietly vanished
    with resources.own_db.session() as db:
        queued = db.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar_one()
    assert queued == 3


def test_a_change_refreshes_the_validation_cache_at_once(
    resources: Resources, make_session, pixora_admin_engine: Engine
) -> None:
    session_id = make_session(facepass_enabled=True)
    sync_sessions(resources)
    assert validate_session(resources, session_id).valid
    set_facepass(pixora_admin_engine, session_id, False)
    assert validate_session(resources, session_id).cache_hit  # still the cached answer
    sync_sessions(resources)
    after = validate_session(resources, session_id)
    assert (after.result, after.cache_hit) == ("disabled", False)


def test_pixora_down_writes_nothing(settings: Settings) -> None:
    broken = settings.model_copy(
        update={"main_app_database_url": url_with_password_at(closed_port())}
    )
    owned = Resources(broken)
    try:
        with pytest.raises(PixoraUnavailable):
            sync_sessions(owned)
    finally:
        owned.close()


def test_background_sync_sends_signed_webhooks_for_a_change(
    resources: Resources, make_session, pixora_admin_engine: Engine, receiver: Receiver
) -> None:
    session_id = make_session(facepass_enabled=True)
    sync_sessions(resources)  # baseline
    set_facepass(pixora_admin_engine, session_id, False)
    quick = Resources(resources.settings.model_copy(update={"sync_interval_s": 0.2}))
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
