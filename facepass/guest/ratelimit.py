"""Rate limits on selfie searches: per browser (device token), per session, per address.

The counting is the maintained `limits` library's moving window: in Redis when configured
(shared by every API process, under the deployment's key prefix), in memory otherwise. When
Redis fails, an in-memory window takes over: limits stay on, merely per process, and the outage
never fails a search. Refused requests are not counted, so `Retry-After` is exact: a client that
waits that long gets through.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from facepass.config import Settings, parse_rate_limit

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `requests` in any `window_s` seconds."""

    requests: int
    window_s: float

    @classmethod
    def parse(cls, spec: str) -> Limit:
        requests, window_s = parse_rate_limit(spec)
        return cls(requests, window_s)

    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.requests, max(1, math.ceil(self.window_s)))


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a request may go on and, if not, after how many seconds to try again."""

    allowed: bool
    retry_after_s: int = 0

    @classmethod
    def refused(cls, wait_s: float) -> Decision:
        return cls(False, max(1, math.ceil(wait_s)))


class RateLimiter(Protocol):
    """Counts a request against a key and decides; `scope` keeps unrelated limits apart."""

    def hit(self, scope: str, key: str, limit: Limit) -> Decision: ...


def _decide(window: MovingWindowRateLimiter, scope: str, key: str, limit: Limit) -> Decision:
    item = limit.item()
    if window.hit(item, scope, key):
        return Decision(True)
    stats = window.get_window_stats(item, scope, key)
    return Decision.refused(stats.reset_time - time.time())


class MovingWindowLimiter:
    """A moving window in one `limits` storage; with a fallback storage for outages."""

    def __init__(self, storage: Storage, fallback: Storage | None = None) -> None:
        self._window = MovingWindowRateLimiter(storage)
        self._fallback = MovingWindowRateLimiter(fallback) if fallback is not None else None
        self._warned_at = -math.inf

    @property
    def backend(self) -> str:
        return "redis" if self._fallback is not None else "memory"

    def hit(self, scope: str, key: str, limit: Limit) -> Decision:
        try:
            return _decide(self._window, scope, key, limit)
        except StorageError:
            if self._fallback is None:
                raise
            self._warn()
            return _decide(self._fallback, scope, key, limit)

    def _warn(self) -> None:
        # One line a minute at most: an outage must not flood the logs.
        if time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            logger.warning("Redis unavailable for rate limits; using in-process limits")


def build_rate_limiter(settings: Settings, redis_url: str | None = None) -> MovingWindowLimiter:
    """Redis-backed limits when Redis is configured, in-process ones otherwise."""
    url = redis_url if redis_url is not None else settings.redis_url
    if not url:
        return MovingWindowLimiter(MemoryStorage())
    storage = RedisStorage(
        url,
        key_prefix=f"{settings.redis_key_prefix}ratelimit",
        wrap_exceptions=True,
        socket_connect_timeout=0.25,
        socket_timeout=0.25,
    )
    return MovingWindowLimiter(storage, fallback=MemoryStorage())
