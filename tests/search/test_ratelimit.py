"""Rate limits: a sliding window in Redis, the same in memory when Redis is absent or down."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis

from facepass.config import Settings
from facepass.search.ratelimit import (
    InProcessRateLimiter,
    Limit,
    RateLimiter,
    RedisRateLimiter,
    build_rate_limiter,
)

T0 = 1_800_000_000.0
LIMIT = Limit(3, 60.0)


def _limiters(settings: Settings) -> list[RateLimiter]:
    assert settings.redis_url is not None
    return [
        build_rate_limiter(settings, Redis.from_url(settings.redis_url)),
        build_rate_limiter(settings, None),
    ]


def test_builds_redis_or_in_process_limits(settings: Settings) -> None:
    redis_backed, in_process = _limiters(settings)
    assert isinstance(redis_backed, RedisRateLimiter)
    assert isinstance(in_process, InProcessRateLimiter)


@pytest.mark.parametrize("backend", [0, 1], ids=["redis", "in-process"])
def test_sliding_window_refuses_with_an_exact_retry_after(settings: Settings, backend: int) -> None:
    limiter = _limiters(settings)[backend]
    key = uuid.uuid4().hex
    for offset in (0.0, 10.0, 20.0):
        assert limiter.hit("ip", key, LIMIT, now=T0 + offset).allowed
    refused = limiter.hit("ip", key, LIMIT, now=T0 + 30.0)
    assert not refused.allowed
    assert refused.retry_after_s == 30  # the first request ages out at T0 + 60
    # Refused requests do not count: waiting exactly Retry-After is enough.
    assert limiter.hit("ip", key, LIMIT, now=T0 + 60.5).allowed
    assert not limiter.hit("ip", key, LIMIT, now=T0 + 61.0).allowed
    # Other keys and other scopes are counted apart.
    assert limiter.hit("ip", uuid.uuid4().hex, LIMIT, now=T0 + 61.0).allowed
    assert limiter.hit("session", key, LIMIT, now=T0 + 61.0).allowed


def test_redis_limits_are_shared_between_processes(settings: Settings) -> None:
    first, _ = _limiters(settings)
    second, _ = _limiters(settings)
    key = uuid.uuid4().hex
    for _ in range(3):
        assert first.hit("ip", key, LIMIT, now=T0).allowed
    assert not second.hit("ip", key, LIMIT, now=T0 + 1).allowed


def test_redis_outage_falls_back_to_in_process_limits(settings: Settings) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = build_rate_limiter(settings, dead)
    key = uuid.uuid4().hex
    decisions = [limiter.hit("ip", key, LIMIT, now=T0 + i) for i in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after_s == 57
