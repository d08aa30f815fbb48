"""Rate limits on selfie searches, per client address and per session.

A sliding log: the times of the requests let through in the last window, kept in a Redis
sorted set under the deployment's key prefix (one Lua script, so concurrent API processes
count exactly) and pruned as they age. Refused requests are not counted, so `Retry-After`
is exact: a client that waits that long gets through. When Redis is absent or down, an
in-process log takes over: limits stay on, merely per process, and the outage never fails a
search.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from redis import Redis
from redis.exceptions import RedisError

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

    def hit(self, scope: str, key: str, limit: Limit, now: float | None = None) -> Decision: ...


class InProcessRateLimiter:
    """The sliding log in this process's memory: the fallback, and enough for one process."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._logs: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, scope: str, key: str, limit: Limit, now: float | None = None) -> Decision:
        moment = time.time() if now is None else now
        with self._lock:
            if len(self._logs) >= self._max_keys:
                self._forget_idle(moment, limit.window_s)
            log = self._logs.setdefault((scope, key), deque())
            while log and log[0] <= moment - limit.window_s:
                log.popleft()
            if len(log) < limit.requests:
                log.append(moment)
                return Decision(True)
            # The request that must age out for one more to fit.
            blocking = log[len(log) - limit.requests]
            return Decision.refused(blocking + limit.window_s - moment)

    def _forget_idle(self, now: float, window_s: float) -> None:
        for key in [k for k, log in self._logs.items() if not log or log[-1] <= now - window_s]:
            del self._logs[key]


# KEYS[1]: the log; ARGV: now, window (s), limit, unique member. Returns {allowed, wait_s}.
_SLIDING_LOG = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
  return {1, '0'}
end
local blocking = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
return {0, tostring(tonumber(blocking[2]) + window - now)}
"""


class RedisRateLimiter:
    """The sliding log in Redis, shared by every process; memory takes over when Redis fails."""

    def __init__(self, redis: Redis, prefix: str, fallback: InProcessRateLimiter) -> None:
        self._redis = redis
        self._prefix = prefix
        self._fallback = fallback
        self._script: Any = redis.register_script(_SLIDING_LOG)
        self._warned_at = -math.inf

    def hit(self, scope: str, key: str, limit: Limit, now: float | None = None) -> Decision:
        moment = time.time() if now is None else now
        redis_key = f"{self._prefix}ratelimit:{scope}:{key}"
        member = f"{moment:.6f}:{uuid.uuid4().hex[:8]}"
        try:
            allowed, wait_s = self._script(
                keys=[redis_key], args=[moment, limit.window_s, limit.requests, member]
            )
        except RedisError:
            self._warn()
            return self._fallback.hit(scope, key, limit, now=moment)
        if int(allowed):
            return Decision(True)
        return Decision.refused(float(wait_s))

    def _warn(self) -> None:
        # One line a minute at most: an outage must not flood the logs.
        if time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            logger.warning("Redis unavailable for rate limits; using in-process limits")


def build_rate_limiter(settings: Settings, redis: Redis | None) -> RateLimiter:
    """Redis-backed limits when Redis is configured, in-process ones otherwise."""
    fallback = InProcessRateLimiter()
    if redis is None:
        return fallback
    return RedisRateLimiter(redis, settings.redis_key_prefix, fallback)
