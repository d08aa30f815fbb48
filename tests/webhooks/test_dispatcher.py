"""Queued webhook deliveries reach a real HTTP endpoint signed, and failures are retried."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from facepass.config import ConfigError, Settings
from facepass.db import OwnDatabase
from facepass.webhooks.dispatcher import WebhookDispatcher, retry_delay_s
from facepass.webhooks.events import (
    MISSING,
    STATUS_CHANGED,
    FacePassState,
    queue_event,
    status_changed_event,
)
from facepass.webhooks.signing import verify
from tests.pixora.fixtures import closed_port
from tests.webhooks.receiver import Receiver

SECRET = "whsec-test-0123456789abcdef"


@pytest.fixture
def own_db(own_db_url: str) -> Iterator[OwnDatabase]:
    db = OwnDatabase(own_db_url, pool_size=2)
    with db.session() as session:
        session.execute(text("DELETE FROM webhook_deliveries"))  # this module's table only
    yield db
    db.dispose()


def _settings(settings: Settings, url: str, **extra: object) -> Settings:
    return settings.model_copy(update={"webhook_urls": url, "webhook_secret": SECRET, **extra})


def _queue(own_db: OwnDatabase, url: str) -> dict[str, object]:
    event = status_changed_event(
        uuid.uuid4(), MISSING, FacePassState(exists=True, facepass_enabled=True, status="created")
    )
    with own_db.session() as db:
        queue_event(db, event, [url])
    return event


def _delivery(own_db: OwnDatabase) -> dict[str, object]:
    with own_db.session() as db:
        row = db.execute(text("SELECT * FROM webhook_deliveries")).mappings().one()
    return dict(row)


def _make_due(own_db: OwnDatabase) -> None:
    with own_db.session() as db:
        db.execute(text("UPDATE webhook_deliveries SET next_attempt_at = now()"))


def test_a_delivery_is_posted_signed_and_marked_delivered(
    settings: Settings, own_db: OwnDatabase, receiver: Receiver
) -> None:
    event = _queue(own_db, receiver.url)
    dispatcher = WebhookDispatcher(own_db, _settings(settings, receiver.url))
    try:
        report = dispatcher.deliver_due()
    finally:
        dispatcher.close()
    assert len(report.delivered) == 1
    [request] = receiver.requests
    assert json.loads(request.body) == event
    assert request.headers["X-FacePass-Event"] == STATUS_CHANGED
    assert request.headers["X-FacePass-Event-Id"] == event["id"]
    assert verify(SECRET, request.headers["X-FacePass-Signature"], request.body)
    assert event["current"] == {
        "exists": True,
        "facepass_enabled": True,
        "status": "created",
        "active": True,
    }
    row = _delivery(own_db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("delivered", 1, None)


def test_failures_are_retried_later_then_given_up(
    settings: Settings, own_db: OwnDatabase, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    _queue(own_db, receiver.url)
    dispatcher = WebhookDispatcher(
        own_db, _settings(settings, receiver.url, webhook_max_attempts=2)
    )
    try:
        first = dispatcher.deliver_due()
        assert len(first.retried) == 1
        row = _delivery(own_db)
        assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "HTTP 500")
        assert dispatcher.deliver_due().retried == []  # not due before its back-off ends
        _make_due(own_db)
        second = dispatcher.deliver_due()
    finally:
        dispatcher.close()
    assert len(second.failed) == 1
    row = _delivery(own_db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 2, "HTTP 503")


def test_an_unreachable_endpoint_is_retried_with_a_short_reason(
    settings: Settings, own_db: OwnDatabase
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    _queue(own_db, url)
    dispatcher = WebhookDispatcher(own_db, _settings(settings, url))
    try:
        dispatcher.deliver_due()
    finally:
        dispatcher.close()
    row = _delivery(own_db)
    assert (row["status"], row["last_error"]) == ("pending", "ConnectError")


def test_back_off_doubles_up_to_an_hour() -> None:
    assert [retry_delay_s(n) for n in (1, 2, 3)] == [10.0, 20.0, 40.0]
    assert retry_delay_s(20) == 3600.0


def test_endpoints_without_a_secret_are_refused(settings: Settings, own_db: OwnDatabase) -> None:
    unsigned = settings.model_copy(update={"webhook_urls": "http://127.0.0.1:9/h"})
    with pytest.raises(ConfigError, match="FACEPASS_WEBHOOK_SECRET"):
        WebhookDispatcher(own_db, unsigned)
