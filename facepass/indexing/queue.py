"""The indexing queue: a Dramatiq broker (stub in-process, Redis or RabbitMQ) and its actor.

Each `IndexQueue` owns its broker and declares the `index_photos` actor on it explicitly, so
nothing depends on Dramatiq's global broker (worker processes still set it once, for tools that
look it up). The actor closes over the process's `IndexingContext`, built on first message:
the face engine loads once per process, in the process that runs the work.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.brokers.stub import StubBroker

from facepass.config import Settings

if TYPE_CHECKING:
    from facepass.indexing.pipeline import IndexingWork
    from facepass.indexing.tasks import ContextHolder
    from facepass.people.tasks import PeopleTasks

logger = logging.getLogger(__name__)

ACTOR_NAME = "index_photos"
ACTOR_OPTIONS: dict[str, Any] = {
    # Transient failures (database or storage down) retry with exponential backoff.
    "max_retries": 10,
    "min_backoff": 1_000,
    "max_backoff": 120_000,
    "time_limit": 30 * 60_000,
}


def broker_namespace(settings: Settings) -> str:
    """Redis key namespace of the queue (shares the deployment's key prefix)."""
    return f"{settings.redis_key_prefix}dramatiq"


def build_broker(settings: Settings) -> dramatiq.Broker:
    """The broker the settings choose; 'inprocess' is a StubBroker worked by threads."""
    if settings.queue_backend == "redis":
        from dramatiq.brokers.redis import RedisBroker

        if not settings.redis_url:
            raise ValueError("FACEPASS_REDIS_URL is required when FACEPASS_QUEUE_BACKEND=redis")
        return RedisBroker(  # type: ignore[no-untyped-call]
            url=settings.redis_url, namespace=broker_namespace(settings)
        )
    if settings.queue_backend == "rabbitmq":
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        if not settings.rabbitmq_url:
            raise ValueError(
                "FACEPASS_RABBITMQ_URL is required when FACEPASS_QUEUE_BACKEND=rabbitmq"
            )
        return RabbitmqBroker(url=settings.rabbitmq_url)
    return StubBroker()


class IndexQueue:
    """Sends photo ids to the indexing actor, in batches; `depth()` counts waiting messages."""

    def __init__(
        self,
        settings: Settings,
        broker: dramatiq.Broker,
        run_batch: Callable[[list[str]], None],
        *,
        worker_id: str,
    ) -> None:
        self.settings = settings
        self.worker_id = worker_id  # who claims photos when this process runs the actor
        self.context: ContextHolder | None = None
        self.people: PeopleTasks | None = None  # the people regrouping actor, same broker
        self.broker = broker
        self.queue_name = settings.index_queue_name
        self.batch_size = max(1, settings.index_batch_size)
        self.actor: dramatiq.Actor[[list[str]], None] = dramatiq.Actor(
            run_batch,
            broker=broker,
            actor_name=ACTOR_NAME,
            queue_name=self.queue_name,
            priority=0,
            options=dict(ACTOR_OPTIONS),
        )

    @property
    def in_process(self) -> bool:
        return isinstance(self.broker, StubBroker)

    def enqueue(self, photo_ids: Iterable[uuid.UUID | str]) -> int:
        """Queue photos for indexing; returns how many messages were sent."""
        ids = [str(photo_id) for photo_id in photo_ids]
        sent = 0
        for start in range(0, len(ids), self.batch_size):
            self.actor.send(ids[start : start + self.batch_size])
            sent += 1
        if ids:
            logger.info("photos queued", extra={"photos": len(ids), "messages": sent})
        return sent

    def depth(self) -> int | None:
        """Messages waiting to be taken (not those being worked on); None when unknown."""
        try:
            if isinstance(self.broker, StubBroker):
                return int(self.broker.queues[self.queue_name].qsize())
            from dramatiq.brokers.redis import RedisBroker

            if isinstance(self.broker, RedisBroker):
                key = f"{self.broker.namespace}:{self.queue_name}"
                return int(self.broker.client.llen(key))
            counts: Sequence[int] = self.broker.get_queue_message_counts(  # type: ignore[attr-defined]
                self.queue_name
            )
            return int(counts[0])
        except Exception:
            logger.warning("queue depth unavailable", exc_info=True)
            return None

    def close(self) -> None:
        self.broker.close()


def build_index_queue(work: IndexingWork) -> IndexQueue:
    """The process's indexing queue, its actor bound to an IndexingContext of `work`."""
    from facepass.indexing.tasks import ContextHolder, new_worker_id, run_batch

    holder = ContextHolder(work, new_worker_id())

    def index_photos(photo_ids: list[str]) -> None:
        run_batch(holder.get(), photo_ids)

    broker = build_broker(work.settings)
    queue = IndexQueue(work.settings, broker, index_photos, worker_id=holder.worker_id)
    queue.context = holder
    from facepass.people.tasks import PeopleTasks

    queue.people = holder.people = PeopleTasks(work, broker, queue.queue_name)
    return queue
