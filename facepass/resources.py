"""Long-lived parts of a running FacePass process, built once from settings.

The API process and worker processes build the same `Resources`; the app's lifespan owns
one, so handlers reach databases, cache, storage and the queue through `request.app.state`.
Each part is created on first use by the domain module that owns it, and closed at shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from redis import Redis

from facepass.config import Settings
from facepass.db import OwnDatabase

if TYPE_CHECKING:
    from facepass.engine import FaceEngine
    from facepass.indexing.queue import IndexQueue
    from facepass.photos.storage import PhotoStorage
    from facepass.pixora.cache import ValidationCache
    from facepass.pixora.database import PixoraDatabase
    from facepass.search.ratelimit import RateLimiter

logger = logging.getLogger(__name__)


class Resources:
    """Databases, cache, storage, queue and face engine of one process."""

    def __init__(self, settings: Settings) -> None:
        if settings.database_url is None or settings.main_app_database_url is None:
            raise RuntimeError("both database URLs must be set (the embedded default sets them)")
        self.settings = settings
        self._closers: list[Callable[[], None]] = []

    def on_close(self, closer: Callable[[], None]) -> None:
        self._closers.append(closer)

    @cached_property
    def own_db(self) -> OwnDatabase:
        assert self.settings.database_url is not None
        db = OwnDatabase(self.settings.database_url, pool_size=self.settings.database_pool_size)
        self.on_close(db.dispose)
        return db

    @cached_property
    def pixora(self) -> PixoraDatabase:
        from facepass.pixora.database import PixoraDatabase

        db = PixoraDatabase.from_settings(self.settings)
        self.on_close(db.dispose)
        return db

    @cached_property
    def redis(self) -> Redis | None:
        """A Redis client when configured; short timeouts so an outage never stalls requests."""
        if not self.settings.redis_url:
            return None
        client = Redis.from_url(
            self.settings.redis_url,
            socket_connect_timeout=0.25,
            socket_timeout=0.25,
            health_check_interval=15,
        )
        self.on_close(client.close)
        return client

    @cached_property
    def validation_cache(self) -> ValidationCache:
        from facepass.pixora.cache import build_validation_cache

        return build_validation_cache(self.settings, self.redis)

    @cached_property
    def storage(self) -> PhotoStorage:
        from facepass.photos.storage import build_storage

        return build_storage(self.settings)

    @cached_property
    def index_queue(self) -> IndexQueue:
        from facepass.indexing.queue import build_index_queue

        queue = build_index_queue(self)
        self.on_close(queue.close)
        return queue

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        from facepass.search.ratelimit import build_rate_limiter

        return build_rate_limiter(self.settings)

    @cached_property
    def face_engine(self) -> FaceEngine:
        from facepass.engine import get_engine
        from facepass.engine_config import engine_config

        return get_engine(engine_config(self.settings))

    def close(self) -> None:
        """Close what was opened, newest first; one failing closer never blocks the rest."""
        while self._closers:
            closer = self._closers.pop()
            try:
                closer()
            except Exception:  # shutdown must go on
                logger.warning("error while closing a resource", exc_info=True)
