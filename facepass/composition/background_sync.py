"""The background thread that runs the sync passes, sends due webhooks, flushes usage and
enforces retention (facepass.privacy.retention).

Each duty has its own cadence (sync_interval_s, every second, usage_flush_interval_s,
retention_interval_s); a failing duty is logged (error type only) and retried on its next
turn, never fatal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from facepass.pixora.errors import PixoraUnavailable
from facepass.sync.service import sync_sessions
from facepass.usage.recorder import USAGE
from facepass.webhooks.dispatcher import WebhookDispatcher
from facepass.webhooks.events import webhook_urls

if TYPE_CHECKING:
    from facepass.composition.context import AppContext

logger = logging.getLogger(__name__)

TICK_S = 1.0


class BackgroundSync:
    """Periodic Pixora sync, webhook delivery and usage flushing in one daemon thread."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        settings = context.settings
        self._dispatcher = (
            WebhookDispatcher(context.own_db, settings) if webhook_urls(settings) else None
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="facepass-sync", daemon=True)
        self._due: dict[str, float] = {}

    def start(self) -> BackgroundSync:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread, then flush the last usage counts."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._attempt("usage", lambda: USAGE.flush(self._context.own_db))
        if self._dispatcher is not None:
            self._dispatcher.close()

    def _every(self, name: str, interval_s: float, duty: Callable[[], object]) -> None:
        now = time.monotonic()
        if interval_s <= 0 or now < self._due.get(name, 0.0):
            return
        self._due[name] = now + interval_s
        self._attempt(name, duty)

    @staticmethod
    def _attempt(name: str, duty: Callable[[], object]) -> None:
        try:
            duty()
        except PixoraUnavailable:
            pass  # already counted and logged where it happened
        except Exception as exc:  # a failing duty must never end the thread
            logger.warning(
                "background duty failed", extra={"duty": name, "error_type": type(exc).__name__}
            )

    def _run(self) -> None:
        settings = self._context.settings
        while not self._stop.is_set():
            self._every("sync", settings.sync_interval_s, self._sync)
            if self._dispatcher is not None:
                self._every("webhooks", TICK_S, self._dispatcher.deliver_due)
            self._every("retention", settings.retention_interval_s, self._retention)
            self._every(
                "usage",
                settings.usage_flush_interval_s,
                lambda: USAGE.flush(self._context.own_db),
            )
            self._stop.wait(TICK_S)

    def _retention(self) -> None:
        from facepass.privacy.retention import purge

        context = self._context
        report = purge(context.own_db, context.pixora, context.storage, context.settings)
        if report.due:
            logger.info("retention pass", extra=report.as_json() | {"due": None})

    def _sync(self) -> None:
        context = self._context
        report = sync_sessions(
            context.own_db, context.pixora, context.validation_cache, context.settings
        )
        if report.ran:
            logger.info(
                "sessions synced",
                extra={
                    "sessions": report.sessions,
                    "changed": len(report.changed),
                    "events": len(report.events),
                    "baseline": report.baseline,
                },
            )
