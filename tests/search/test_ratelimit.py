"""Rate limits: `limits`' moving window in Redis, the same in memory when Redis is absent or
down."""

from __future__ import annotations

import time
import uuid

import pytest

from facepass.config import Settings
from facepass.guest.ratelimit import Limit, MovingWindowLimiter, build_rate_limiter

LIMIT = Limit(3, 2.0)


def _limiters(settings: Settings) -> list[MovingWindowLimiter]:
    return [build_rate_limiter(settings), build_rate_limiter(settings, redis_url="")]


def test_builds_redis_or_in_process_limits(settings: Settings) -> None:
    redis_backed, in_process = _limiters(settings)
    assert redis_backed.backend == "redis"
    assert in_process.backend == "memory"


@pytest.mark.parametrize("backend", [0, 1], ids=["redis", "in-process"])
def test_moving_window_refuses_with_a_retry_after(settings: Settings, backend: int) -> None:
    limiter = _limiters(settings)[backend]
    key = uuid.uuid4().hex
    assert all(limiter.hit("ip", key, LIMIT).allowed for _ in range(3))
    refused = limiter.hit("ip", key, LIMIT)
    assert not refused.allowed
    assert refused.retry_after_s in (1, 2)  # the first request ages out within the window
    # Other keys and other scopes are counted apart.
    assert limiter.hit("ip", uuid.uuid4().hex, LIMIT).allowed
    assert limiter.hit("session", key, LIMIT).allowed
    # Refused requests do not count: waiting Retry-After is enough.
    time.sleep(refused.retry_after_s + 0.1)
    assert limiter.hit("ip", key, LIMIT).allowed


def test_redis_limits_are_shared_between_processes(settings: Settings) -> None:
    first, second = build_rate_limiter(settings), build_rate_limiter(settings)
    key = uuid.uuid4().hex
    for _ in range(3):
        assert first.hit("ip", key, LIMIT).allowed
    assert not second.hit("ip", key, LIMIT).allowed


def test_redis_outage_falls_back_to_in_process_limits(settings: Settings) -> None:
    limiter = build_rate_limiter(settings, redis_url="redis://127.0.0.1:1/0")
    key = uuid.uuid4().hex
    decisions = [limiter.hit("ip", key, LIMIT) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after_s in (1, 2)
