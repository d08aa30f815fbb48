"""Start and stop the background work a process runs beside the API.

With the embedded default (queue_backend 'inprocess') the API process works the queue itself:
Dramatiq worker threads on a StubBroker, the very actor `facepass worker` runs. With Redis or
RabbitMQ, `facepass worker` processes do the work and the API only enqueues. Every backend runs
the reconciler here too (one pass at a time across processes, by an advisory lock).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dramatiq

from facepass.indexing.heartbeat import Heartbeat
from facepass.indexing.reconciler import Reconciler
from facepass.resources import Resources
from facepass.sync.worker import start_sync, stop_sync

logger = logging.getLogger(__name__)

_STATE_ATTRIBUTE = "_facepass_background"


@dataclass
class BackgroundWork:
    reconciler: Reconciler
    worker: dramatiq.Worker | None = None
    heartbeat: Heartbeat | None = None


def start_background_work(resources: Resources) -> None:
    """Start in-process indexing workers (embedded default) and the reconciler."""
    settings = resources.settings
    queue = resources.index_queue
    worker = heartbeat = None
    if queue.in_process:
        # Beat before consuming: claims made under this worker id must look alive.
        heartbeat = Heartbeat(
            resources.own_db, queue.worker_id, None, settings.worker_heartbeat_s
        ).start()
        worker = dramatiq.Worker(
            queue.broker, worker_threads=max(1, settings.inprocess_workers), worker_timeout=250
        )
        worker.start()
    reconciler = Reconciler(resources, queue, settings.reconcile_interval_s).start()
    setattr(resources, _STATE_ATTRIBUTE, BackgroundWork(reconciler, worker, heartbeat))
    start_sync(resources)  # Pixora sync, webhooks, usage flushing (facepass.sync)
    logger.info(
        "background work started",
        extra={"queue_backend": settings.queue_backend, "in_process_workers": worker is not None},
    )


def stop_background_work(resources: Resources) -> None:
    """Stop what start_background_work started, letting in-flight work finish."""
    stop_sync(resources)
    state: BackgroundWork | None = getattr(resources, _STATE_ATTRIBUTE, None)
    if state is None:
        return
    state.reconciler.stop()
    if state.worker is not None:
        # Photos still queued stay 'pending' in the database; the next start re-queues them.
        state.worker.stop(timeout=30_000)
    if state.heartbeat is not None:
        state.heartbeat.stop()
    delattr(resources, _STATE_ATTRIBUTE)
