"""Delivery of queued webhook events: claim due rows, POST them signed, retry with back-off.

Rows are claimed by pushing their next attempt a lease into the future (SKIP LOCKED), so
several processes never send the same delivery at once and no transaction stays open during
an HTTP call. 2xx is success; anything else is retried (10 s, 20 s, 40 s, ... at most an hour)
until `webhook_max_attempts`, then the delivery is marked failed.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client import Counter
from sqlalchemy import func, select, update

from facepass import __version__
from facepass.config import ConfigError, Settings
from facepass.db import OwnDatabase
from facepass.observability.metrics import REGISTRY
from facepass.webhooks.events import webhook_urls
from facepass.webhooks.models import DELIVERED, FAILED, PENDING, WebhookDelivery
from facepass.webhooks.signing import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

WEBHOOK_DELIVERIES = Counter(
    "facepass_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome (delivered, retry, failed).",
    ["outcome"],
    registry=REGISTRY,
)

BATCH_SIZE = 20
LEASE_S = 120.0
RETRY_BASE_S = 10.0
RETRY_MAX_S = 3600.0


def retry_delay_s(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return float(min(RETRY_MAX_S, RETRY_BASE_S * 2.0 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    url: str
    event_type: str
    event_id: uuid.UUID
    payload: dict[str, Any]
    attempts: int


@dataclass
class DispatchReport:
    delivered: list[uuid.UUID] = field(default_factory=list)
    retried: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)


def _after(seconds: float) -> Any:
    return func.now() + func.make_interval(0, 0, 0, 0, 0, 0, seconds)


class WebhookDispatcher:
    """Sends due deliveries; one instance per process, driven by the background sync."""

    def __init__(
        self, own_db: OwnDatabase, settings: Settings, client: httpx.Client | None = None
    ) -> None:
        if webhook_urls(settings) and not settings.webhook_secret:
            raise ConfigError(
                "FACEPASS_WEBHOOK_SECRET is required when FACEPASS_WEBHOOK_URLS is set"
            )
        self._own_db = own_db
        self._secret = settings.webhook_secret or ""
        self._max_attempts = max(1, settings.webhook_max_attempts)
        self._client = client or httpx.Client(
            timeout=settings.webhook_timeout_s,
            follow_redirects=False,
            headers={"User-Agent": f"FacePass-Webhooks/{__version__}"},
        )

    def close(self) -> None:
        self._client.close()

    def _claim(self) -> list[Claimed]:
        due = (
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= func.now())
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(BATCH_SIZE)
            .with_for_update(skip_locked=True)
        )
        with self._own_db.session() as db:
            rows = db.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(due.scalar_subquery()))
                .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=_after(LEASE_S))
                .returning(
                    WebhookDelivery.id,
                    WebhookDelivery.url,
                    WebhookDelivery.event_type,
                    WebhookDelivery.event_id,
                    WebhookDelivery.payload,
                    WebhookDelivery.attempts,
                )
            ).all()
        return [Claimed(*row) for row in rows]

    def _send(self, delivery: Claimed) -> str | None:
        """POST one delivery; None on success, else a short credential-free reason."""
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-FacePass-Event": delivery.event_type,
            "X-FacePass-Event-Id": str(delivery.event_id),
            "X-FacePass-Delivery": str(delivery.id),
            SIGNATURE_HEADER: sign(self._secret, body),
        }
        try:
            response = self._client.post(delivery.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return type(exc).__name__
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def _finish(self, delivery: Claimed, error: str | None, report: DispatchReport) -> None:
        values: dict[str, Any]
        if error is None:
            values = {"status": DELIVERED, "delivered_at": func.now(), "last_error": None}
            report.delivered.append(delivery.id)
            outcome = "delivered"
        elif delivery.attempts >= self._max_attempts:
            values = {"status": FAILED, "last_error": error}
            report.failed.append(delivery.id)
            outcome = "failed"
        else:
            delay = retry_delay_s(delivery.attempts)
            values = {"next_attempt_at": _after(delay), "last_error": error}
            report.retried.append(delivery.id)
            outcome = "retry"
        WEBHOOK_DELIVERIES.labels(outcome).inc()
        with self._own_db.session() as db:
            db.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(values)
            )
        logger.info(
            "webhook delivery",
            extra={
                "delivery_id": str(delivery.id),
                "event_type": delivery.event_type,
                "host": httpx.URL(delivery.url).host,  # never the full URL: it may hold a token
                "attempt": delivery.attempts,
                "outcome": outcome,
                "error": error,
            },
        )

    def deliver_due(self) -> DispatchReport:
        """Send every delivery due now (in batches), and record each outcome."""
        report = DispatchReport()
        while batch := self._claim():
            for delivery in batch:
                self._finish(delivery, self._send(delivery), report)
            if len(batch) < BATCH_SIZE:
                break
        return report
