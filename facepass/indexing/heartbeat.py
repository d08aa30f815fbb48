"""Worker heartbeats: a row per live worker process, refreshed every few seconds.

The reconciler trusts an 'indexing' claim only while its worker beats; a worker killed
mid-photo (SIGKILL, OOM, a lost machine) stops beating and its photos are handed out again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from sqlalchemy import delete, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from facepass.db import OwnDatabase
from facepass.photos.models import IndexingWorker

logger = logging.getLogger(__name__)

MISSED_BEATS_BEFORE_DEAD = 3


def beat(own_db: OwnDatabase, worker_id: str, model_id: str | None) -> None:
    """Record that this worker is alive now."""
    statement = pg_insert(IndexingWorker).values(
        id=worker_id, hostname=socket.gethostname(), pid=os.getpid(), model_id=model_id
    )
    statement = statement.on_conflict_do_update(
        index_elements=[IndexingWorker.id],
        set_={"heartbeat_at": text("now()"), "model_id": model_id},
    )
    with own_db.session() as db:
        db.execute(statement)


class Heartbeat:
    """A daemon thread that beats every `interval_s` until stopped (then unregisters)."""

    def __init__(
        self, own_db: OwnDatabase, worker_id: str, model_id: str | None, interval_s: float
    ) -> None:
        self.own_db = own_db
        self.worker_id = worker_id
        self.model_id = model_id
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="facepass-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        """Beat once now (so claims are covered from the start), then keep beating."""
        beat(self.own_db, self.worker_id, self.model_id)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                beat(self.own_db, self.worker_id, self.model_id)
            except Exception:
                logger.warning("heartbeat failed", extra={"worker_id": self.worker_id})

    def stop(self) -> None:
        """Stop beating and remove this worker's row (its claims are finished or released)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            with self.own_db.session() as db:
                db.execute(delete(IndexingWorker).where(IndexingWorker.id == self.worker_id))
        except Exception:
            logger.warning("could not unregister worker", extra={"worker_id": self.worker_id})
