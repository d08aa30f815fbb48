"""`facepass worker`: indexing worker processes for a Redis or RabbitMQ queue.

Each process builds its own WorkerContext from settings, loads the face engine once, beats its
heartbeat, and runs Dramatiq worker threads on the `index_photos` actor. Indexing scales out
by starting more processes, here or on other machines. The supervising process restarts a
child that dies and runs the reconciler (one pass at a time across every process).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Protocol

import dramatiq

from facepass.composition.context import WorkerContext
from facepass.config import ConfigError, Settings, get_settings
from facepass.indexing.heartbeat import Heartbeat
from facepass.indexing.pipeline import Timings
from facepass.indexing.queue import build_index_queue
from facepass.indexing.reconciler import Reconciler
from facepass.observability.logging import configure_logging
from facepass.observability.metrics import REGISTRY
from facepass.photos.vector_index import ensure_vector_index

logger = logging.getLogger(__name__)

RESTART_DELAY_S = 2.0


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, _: FrameType | None) -> None:
        logger.info("worker stopping", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def check_worker_settings(settings: Settings) -> None:
    """Workers need a shared queue and database; refuse the in-process default clearly."""
    if settings.queue_backend == "inprocess":
        raise ConfigError(
            "facepass worker needs FACEPASS_QUEUE_BACKEND=redis or rabbitmq; with the "
            "in-process default the API process indexes photos itself"
        )
    if not settings.database_url:
        raise ConfigError("facepass worker needs FACEPASS_DATABASE_URL")


class WorkerObserver(Protocol):
    """A hook for tools that watch one worker process from outside the product (the lab's index
    benchmark, `facepass.lab.bench.index.WorkerProbe`).

    It is pickled into the spawned process. There the worker sums the per-stage milliseconds of
    its indexing into `timings` (unless None), calls `ready()` once it is about to take work and
    `stopped()` after its last photo. Production passes no observer.
    """

    @property
    def timings(self) -> Timings | None: ...

    def ready(self) -> None: ...

    def stopped(self) -> None: ...


def run_worker_process(
    settings: Settings,
    threads: int,
    *,
    reconcile: bool,
    observer: WorkerObserver | None = None,
    metrics_port: int | None = None,
) -> None:
    """Run one worker process until SIGTERM/SIGINT, then finish in-flight photos and exit."""
    from facepass.migrations import migrate

    check_worker_settings(settings)
    stop = _stop_on_signals()
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=settings.host, registry=REGISTRY)
    assert settings.database_url is not None
    migrate(settings.database_url, settings.migration_database_url)
    work = WorkerContext.build(settings)
    queue = build_index_queue(work)
    work.on_close(queue.close)
    dramatiq.set_broker(queue.broker)  # once per process, before any actor runs
    engine = work.engines.get()  # loaded once per process, before taking work
    with work.own_db.engine.begin() as conn:
        ensure_vector_index(conn, engine.model_id, engine.embedding_dim)
    if observer is not None and queue.context is not None:
        queue.context.timings = observer.timings
    heartbeat = Heartbeat(
        work.own_db, queue.worker_id, engine.model_id, settings.worker_heartbeat_s
    ).start()
    worker = dramatiq.Worker(queue.broker, worker_threads=threads, worker_timeout=500)
    # Hold one message beyond those being worked on: Dramatiq's Redis consumer backs off (up to
    # worker_timeout) while it may fetch nothing, so without a spare the worker would idle after
    # each message; more than one would leave other processes short at the end of a batch.
    worker.queue_prefetch = threads + 1
    worker.start()
    reconciler = Reconciler(work.own_db, settings, queue).start() if reconcile else None
    logger.info(
        "worker started",
        extra={"worker_id": queue.worker_id, "threads": threads, "model_id": engine.model_id},
    )
    if observer is not None:
        observer.ready()
    try:
        stop.wait()
    finally:
        if reconciler is not None:
            reconciler.stop()
        worker.stop(timeout=60_000)
        heartbeat.stop()
        work.close()
        if observer is not None:
            observer.stopped()
        logger.info("worker stopped", extra={"worker_id": queue.worker_id})


def _child_main(
    threads: int,
    settings: Settings | None,
    observer: WorkerObserver | None,
    metrics_port: int | None,
) -> None:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    run_worker_process(
        settings, threads, reconcile=False, observer=observer, metrics_port=metrics_port
    )


def spawn_worker(
    threads: int,
    settings: Settings | None = None,
    observer: WorkerObserver | None = None,
    metrics_port: int | None = None,
) -> BaseProcess:
    """Start one worker process (spawned: it builds its own context and engine)."""
    context = multiprocessing.get_context("spawn")
    child = context.Process(
        target=_child_main, args=(threads, settings, observer, metrics_port), name="facepass-worker"
    )
    child.start()
    return child


def run_workers(
    settings: Settings, processes: int, threads: int, metrics_port: int | None = None
) -> None:
    """Run `processes` worker processes (restarting any that dies) and the reconciler.

    With `metrics_port`, worker process i serves Prometheus metrics on metrics_port + i.
    """
    check_worker_settings(settings)
    if processes <= 1:
        run_worker_process(settings, threads, reconcile=True, metrics_port=metrics_port)
        return
    stop = _stop_on_signals()

    def port_of(index: int) -> int | None:
        return None if metrics_port is None else metrics_port + index

    children = [spawn_worker(threads, settings, metrics_port=port_of(i)) for i in range(processes)]
    work = WorkerContext.build(settings)
    queue = build_index_queue(work)
    work.on_close(queue.close)
    reconciler = Reconciler(work.own_db, settings, queue).start()
    try:
        while not stop.wait(1.0):
            for index, child in enumerate(children):
                if not child.is_alive():
                    logger.warning(
                        "worker process died; restarting", extra={"exit_code": child.exitcode}
                    )
                    time.sleep(RESTART_DELAY_S)
                    children[index] = spawn_worker(threads, settings, metrics_port=port_of(index))
    finally:
        reconciler.stop()
        for child in children:
            if child.is_alive():
                child.terminate()  # SIGTERM: finish the current photos, then exit
        for child in children:
            child.join(timeout=90)
        work.close()
