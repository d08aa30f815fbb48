"""The validation cache: expiry per answer kind, Redis or in-process, and Redis outages."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
from redis import Redis

from facepass.config import Settings
from facepass.observability.metrics import REGISTRY
from facepass.pixora.cache import (
    CachedLookup,
    LocalValidationCache,
    NoCache,
    RedisValidationCache,
    TtlPolicy,
    build_validation_cache,
)
from facepass.pixora.schemas import SessionInfo
from tests.pixora.fixtures import closed_port


def _session(enabled: bool = True) -> SessionInfo:
    stamp = datetime(2026, 2, 18, 17, 55, 51, 746000, tzinfo=UTC)
    return SessionInfo(
        id=uuid.uuid4(),
        name="Сессия",
        studio_id=uuid.uuid4(),
        facepass_enabled=enabled,
        photographer_id=uuid.uuid4(),
        status="created",
        created_at=stamp,
        updated_at=stamp,
    )


def _events(result: str) -> float:
    return REGISTRY.get_sample_value("facepass_validation_cache_total", {"result": result}) or 0.0


def _redis_client(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=0.25, socket_timeout=0.25)


class FakeClock:
    """The local cache's clock, moved by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def local_cache(clock: FakeClock) -> LocalValidationCache:
    """The in-process cache with a 0.4 s positive and a 0.15 s negative TTL, on a fake clock."""
    return LocalValidationCache(TtlPolicy(0.4, 0.15), clock=clock)


@pytest.fixture
def redis_cache(settings: Settings):
    """Redis's cache (Redis keeps the time) with a 3 s positive and a 0.3 s negative TTL."""
    quick = settings.model_copy(update={"cache_ttl_s": 3.0, "cache_negative_ttl_s": 0.3})
    client = _redis_client(quick.redis_url or "")
    cache = build_validation_cache(quick, client)
    assert isinstance(cache, RedisValidationCache)
    yield cache
    client.close()


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.services), "local"])
def short_cache(request):
    """Each cache kind (for what does not depend on time)."""
    return request.getfixturevalue(f"{request.param}_cache")


def test_build_picks_redis_local_or_nothing(settings: Settings) -> None:
    client = _redis_client(settings.redis_url or "")
    try:
        assert isinstance(build_validation_cache(settings, client), RedisValidationCache)
    finally:
        client.close()
    assert isinstance(build_validation_cache(settings, None), LocalValidationCache)
    off = settings.model_copy(update={"cache_ttl_s": 0, "cache_negative_ttl_s": 0})
    assert isinstance(build_validation_cache(off, None), NoCache)


def _three_answers(cache) -> tuple[SessionInfo, SessionInfo, uuid.UUID]:
    enabled, disabled, unknown = _session(), _session(enabled=False), uuid.uuid4()
    cache.put_many({enabled.id: enabled, disabled.id: disabled, unknown: None})
    got = cache.get_many([enabled.id, disabled.id, unknown, uuid.uuid4()])
    assert got == {
        enabled.id: CachedLookup(enabled),
        disabled.id: CachedLookup(disabled),
        unknown: CachedLookup(None),
    }
    return enabled, disabled, unknown


def test_local_answers_round_trip_and_expire_by_kind(
    local_cache: LocalValidationCache, clock: FakeClock
) -> None:
    enabled, disabled, unknown = _three_answers(local_cache)
    clock.now += 0.2  # past the negative TTL, within the positive one
    assert local_cache.get_many([enabled.id, disabled.id, unknown]) == {
        enabled.id: CachedLookup(enabled)
    }
    clock.now += 0.25
    assert local_cache.get(enabled.id) is None


def test_redis_answers_round_trip_and_expire_by_kind(redis_cache: RedisValidationCache) -> None:
    enabled, disabled, unknown = _three_answers(redis_cache)
    time.sleep(0.5)  # past the negative TTL (Redis's clock), far within the positive one
    assert redis_cache.get_many([enabled.id, disabled.id, unknown]) == {
        enabled.id: CachedLookup(enabled)
    }
    remaining_ms = redis_cache._redis.pttl(redis_cache._key(enabled.id))
    assert 0 < remaining_ms <= 3000  # and the positive answer expires in its own time


def test_invalidate_forgets_an_answer(short_cache) -> None:
    session = _session()
    short_cache.put_many({session.id: session})
    short_cache.invalidate([session.id])
    assert short_cache.get(session.id) is None


def test_hits_and_misses_are_counted(short_cache) -> None:
    session = _session()
    hits, misses = _events("hit"), _events("miss")
    short_cache.put_many({session.id: session})
    short_cache.get(session.id)
    short_cache.get(uuid.uuid4())
    assert (_events("hit"), _events("miss")) == (hits + 1, misses + 1)


def test_redis_entries_live_under_the_key_prefix_with_a_ttl(settings: Settings) -> None:
    client = _redis_client(settings.redis_url or "")
    try:
        cache = build_validation_cache(settings, client)
        session = _session()
        cache.put_many({session.id: session})
        keys = list(client.scan_iter(f"{settings.redis_key_prefix}*"))
        assert keys == [f"{settings.redis_key_prefix}pixora-session:v1:{session.id}".encode()]
        assert 0 < client.pttl(keys[0]) <= settings.cache_ttl_s * 1000
        client.delete(*keys)
    finally:
        client.close()


def test_redis_down_is_a_cache_error_never_an_exception(settings: Settings) -> None:
    client = _redis_client(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        cache = build_validation_cache(settings, client)
        session = _session()
        errors = _events("error")
        cache.put_many({session.id: session})
        assert cache.get(session.id) is None
        assert cache.get_many([session.id, uuid.uuid4()]) == {}
        cache.invalidate([session.id])
        assert _events("error") > errors
    finally:
        client.close()


def test_local_cache_stays_bounded() -> None:
    cache = LocalValidationCache(TtlPolicy(60, 60), max_entries=3)
    sessions = [_session() for _ in range(5)]
    cache.put_many({s.id: s for s in sessions})
    assert cache.get_many([s.id for s in sessions]) == {s.id: CachedLookup(s) for s in sessions[2:]}
