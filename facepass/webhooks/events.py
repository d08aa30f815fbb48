"""The one event FacePass sends, and how it is queued for every configured endpoint."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from facepass.config import Settings
from facepass.webhooks.models import WebhookDelivery

STATUS_CHANGED: Final = "session.facepass_status_changed"


@dataclass(frozen=True, slots=True)
class FacePassState:
    """A session's FacePass status as webhooks report it."""

    exists: bool
    facepass_enabled: bool
    status: str | None

    @property
    def active(self) -> bool:
        return self.exists and self.facepass_enabled

    def as_json(self) -> dict[str, Any]:
        return {
            "exists": self.exists,
            "facepass_enabled": self.facepass_enabled,
            "status": self.status,
            "active": self.active,
        }


MISSING = FacePassState(exists=False, facepass_enabled=False, status=None)


def webhook_urls(settings: Settings) -> list[str]:
    """The configured endpoints (FACEPASS_WEBHOOK_URLS, comma-separated)."""
    return [url.strip() for url in (settings.webhook_urls or "").split(",") if url.strip()]


def status_changed_event(
    session_id: uuid.UUID, previous: FacePassState, current: FacePassState
) -> dict[str, Any]:
    """The JSON body of a `session.facepass_status_changed` notification."""
    return {
        "id": str(uuid.uuid4()),
        "type": STATUS_CHANGED,
        "occurred_at": datetime.now(UTC).isoformat(),
        "session_id": str(session_id),
        "previous": previous.as_json(),
        "current": current.as_json(),
    }


def queue_event(db: Session, event: dict[str, Any], urls: list[str]) -> None:
    """Add one pending delivery per endpoint, in the caller's transaction (an outbox)."""
    for url in urls:
        db.add(
            WebhookDelivery(
                id=uuid.uuid4(),
                event_id=uuid.UUID(event["id"]),
                event_type=event["type"],
                session_id=uuid.UUID(event["session_id"]),
                url=url,
                payload=event,
            )
        )
