"""Start and stop the background work a process runs beside the API.

With the embedded default (queue_backend 'inprocess') the API process works the queue itself:
Dramatiq worker threads on a StubBroker, the very actor `facepass worker` runs. With Redis or
RabbitMQ, `facepass worker` processes do the work and the API only enqueues. Every backend runs
the reconciler here too (one pass at a time across processes, by an advisory lock).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dramatiq

from facepass.composition.background_sync import BackgroundSync
from facepass.indexing.heartbeat import Heartbeat
from facepass.indexing.reconciler import Reconciler

if TYPE_CHECKING:
    from facepass.composition.context import AppContext

logger = logging.getLogger(__name__)


@dataclass
class BackgroundWork:
    """The threads an API process runs beside its requests (owned by its AppContext)."""

    reconciler: Reconciler
    sync: BackgroundSync
    worker: dramatiq.Worker | None = None
    heartbeat: Heartbeat | None = None


def start_background_work(context: AppContext) -> BackgroundWork:
    """Start in-process indexing workers (embedded default), the reconciler and the sync."""
    settings = context.settings
    queue = context.index_queue
    worker = heartbeat = None
    if queue.in_process:
        # Beat before consuming: claims made under this worker id must look alive.
        heartbeat = Heartbeat(
            context.own_db, queue.worker_id, None, settings.worker_heartbeat_s
        ).start()
        worker = dramatiq.Worker(
            queue.broker, worker_threads=max(1, settings.inprocess_workers), worker_timeout=250
        )
        worker.start()
    reconciler = Reconciler(context.own_db, settings, queue).start()
    sync = BackgroundSync(context).start()  # Pixora sync, webhooks, usage flushing
    logger.info(
        "background work started",
        extra={"queue_backend": settings.queue_backend, "in_process_workers": worker is not None},
    )
    return BackgroundWork(reconciler, sync, worker, heartbeat)


def stop_background_work(state: BackgroundWork) -> None:
    """Stop what start_background_work started, letting in-flight work finish."""
    state.sync.stop()
    state.reconciler.stop()
    if state.worker is not None:
        # Photos still queued stay 'pending' in the database; the next start re-queues them.
        state.worker.stop(timeout=30_000)
    if state.heartbeat is not None:
        state.heartbeat.stop()
