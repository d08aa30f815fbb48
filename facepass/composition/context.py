"""The long-lived parts of a FacePass process, built once and closed once.

`AppContext.build(settings)` opens every part the API needs (the databases, cache, storage,
queue, rate limiter, media signer, guests' tokens, engine gate and search line) and `close()`
closes them in reverse order; the app's lifespan builds one, stores it as
`app.state.context`, starts its background threads and closes it at shutdown. Handlers reach
its parts through the FastAPI dependencies of facepass.api.dependencies. Worker processes and
commands build a smaller `WorkerContext`; the features take the parts they use (or a protocol
of them), never a context.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from anyio import CapacityLimiter
from redis import Redis

from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.engine_config import Engines
from facepass.guest.challenge import ChallengeStore
from facepass.guest.ratelimit import RateLimiter
from facepass.guest.signing import MediaSigner
from facepass.guest.tokens import GuestTokens
from facepass.indexing.queue import IndexQueue
from facepass.photos.storage import PhotoStorage
from facepass.pixora.cache import ValidationCache
from facepass.pixora.database import PixoraDatabase
from facepass.search.crowd import SearchCrowd, engine_slots

if TYPE_CHECKING:
    from facepass.composition.lifecycle import BackgroundWork

logger = logging.getLogger(__name__)

Closer = Callable[[], None]


def require_databases(settings: Settings) -> None:
    if settings.database_url is None or settings.main_app_database_url is None:
        raise RuntimeError("both database URLs must be set (the embedded default sets them)")


def own_database(settings: Settings) -> OwnDatabase:
    assert settings.database_url is not None
    return OwnDatabase(settings.database_url, pool_size=settings.database_pool_size)


def redis_client(settings: Settings) -> Redis | None:
    """A Redis client when configured; short timeouts so an outage never stalls requests."""
    if not settings.redis_url:
        return None
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=0.25,
        socket_timeout=0.25,
        health_check_interval=15,
    )


def signing_secret(settings: Settings) -> str:
    """The media signing key; without one (development only) a random key for this process."""
    secret = settings.media_signing_key
    if not secret:
        # Production refuses to start without a key; here links just die with the process.
        logger.warning("FACEPASS_MEDIA_SIGNING_KEY is not set; using a random per-process key")
        secret = secrets.token_urlsafe(32)
    return secret


@dataclass(frozen=True)
class WorkerContext:
    """What indexing and the background passes need in one process: built once, closed once."""

    settings: Settings
    own_db: OwnDatabase
    storage: PhotoStorage
    engines: Engines
    closers: list[Closer] = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> WorkerContext:
        from facepass.photos.storage import build_storage

        require_databases(settings)
        own_db = own_database(settings)
        return cls(settings, own_db, build_storage(settings), Engines(settings), [own_db.dispose])

    def on_close(self, closer: Closer) -> None:
        """Close `closer` with the context (before the parts opened earlier)."""
        self.closers.append(closer)

    def close(self) -> None:
        _close_all(self.closers)


@dataclass
class AppContext:
    """Every long-lived part of the API process; `background` is set while its threads run."""

    settings: Settings
    work: WorkerContext
    pixora: PixoraDatabase
    redis: Redis | None
    validation_cache: ValidationCache
    rate_limiter: RateLimiter
    index_queue: IndexQueue
    signer: MediaSigner
    tokens: GuestTokens
    search_crowd: SearchCrowd
    challenges: ChallengeStore
    closers: list[Closer] = field(default_factory=list, repr=False)
    background: BackgroundWork | None = None

    @property
    def own_db(self) -> OwnDatabase:
        return self.work.own_db

    @property
    def storage(self) -> PhotoStorage:
        return self.work.storage

    @property
    def engine_gate(self) -> CapacityLimiter:
        """At most this process's share of the cores in engine calls at once."""
        return self.search_crowd.gate

    @property
    def engines(self) -> Engines:
        return self.work.engines

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        """Open every part; a part that fails to build closes those opened before it."""
        from facepass.guest.ratelimit import build_rate_limiter
        from facepass.indexing.queue import build_index_queue
        from facepass.pixora.cache import build_validation_cache

        work = WorkerContext.build(settings)
        closers: list[Closer] = [work.close]
        try:
            pixora = PixoraDatabase.from_settings(settings)
            closers.append(pixora.dispose)
            redis = redis_client(settings)
            if redis is not None:
                closers.append(redis.close)
            queue = build_index_queue(work)
            closers.append(queue.close)
            secret = signing_secret(settings)
            return cls(
                settings=settings,
                work=work,
                pixora=pixora,
                redis=redis,
                validation_cache=build_validation_cache(settings, redis),
                rate_limiter=build_rate_limiter(settings),
                index_queue=queue,
                signer=MediaSigner(secret, settings.media_url_ttl_s),
                tokens=GuestTokens(secret),
                # At most one engine call per core at once (the cores shared among the API
                # processes): more would only slow every guest.
                search_crowd=SearchCrowd.build(
                    engine_slots(os.cpu_count(), settings.api_processes),
                    settings.search_queue_max,
                    settings.search_batch_max_faces,
                    settings.search_batch_wait_ms,
                ),
                challenges=ChallengeStore(
                    redis, settings.redis_key_prefix, settings.live_challenge_ttl_s
                ),
                closers=closers,
            )
        except BaseException:
            _close_all(closers)
            raise

    def start_background(self) -> None:
        """Start in-process indexing (embedded default), the reconciler and the sync passes."""
        from facepass.composition.lifecycle import start_background_work

        if self.background is None:
            self.background = start_background_work(self)

    def stop_background(self) -> None:
        from facepass.composition.lifecycle import stop_background_work

        background, self.background = self.background, None
        if background is not None:
            stop_background_work(background)

    def close(self) -> None:
        """Stop the background threads, then close what was opened, newest first."""
        self.stop_background()
        _close_all(self.closers)


def _close_all(closers: list[Closer]) -> None:
    """Close newest first; one failing closer never blocks the rest."""
    while closers:
        closer = closers.pop()
        try:
            closer()
        except Exception:  # shutdown must go on
            logger.warning("error while closing a resource", exc_info=True)
