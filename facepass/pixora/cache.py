"""The session validation cache: Redis when configured, an in-process TTL cache otherwise.

Positive answers live `cache_ttl_s`; "not found" and "FacePass off" live the shorter
`cache_negative_ttl_s`, so turning FacePass on shows up quickly, and turning it off shows up
within `cache_ttl_s` at worst. Pixora errors are never cached. A Redis outage is never an
error: the lookup counts as a cache error, Redis is left alone for a moment, and Pixora answers.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from cachetools import TLRUCache
from pydantic import ValidationError
from redis import Redis
from redis.exceptions import RedisError

from facepass.config import Settings
from facepass.observability.metrics import CACHE_EVENTS
from facepass.pixora.schemas import SessionInfo

logger = logging.getLogger(__name__)

_NOT_FOUND = b"-"  # Redis value of a cached "no such session"
_KEY_VERSION = "v1"  # bump when SessionInfo's JSON changes, so old entries are ignored
REDIS_BACKOFF_S = 2.0
LOCAL_MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class CachedLookup:
    """A cached answer of Pixora: the session, or None when it does not exist."""

    session: SessionInfo | None


class ValidationCache(Protocol):
    """Where validation answers are kept between requests."""

    def get(self, session_id: uuid.UUID) -> CachedLookup | None: ...

    def get_many(self, session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CachedLookup]: ...

    def put_many(self, answers: Mapping[uuid.UUID, SessionInfo | None]) -> None: ...

    def invalidate(self, session_ids: Iterable[uuid.UUID]) -> None: ...


class TtlPolicy:
    """How long an answer may be cached (0 or less: not at all)."""

    def __init__(self, positive_s: float, negative_s: float) -> None:
        self.positive_s = positive_s
        self.negative_s = negative_s

    def ttl_for(self, session: SessionInfo | None) -> float:
        if session is not None and session.facepass_enabled:
            return self.positive_s
        return self.negative_s


class NoCache:
    """Caching turned off (both TTLs 0): every validation reads Pixora."""

    def get(self, session_id: uuid.UUID) -> CachedLookup | None:
        return None

    def get_many(self, session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CachedLookup]:
        return {}

    def put_many(self, answers: Mapping[uuid.UUID, SessionInfo | None]) -> None:
        return None

    def invalidate(self, session_ids: Iterable[uuid.UUID]) -> None:
        return None


class LocalValidationCache:
    """A bounded in-process TTL cache (cachetools), safe across the threadpool's threads.

    Each answer lives its own TTL (positive or negative); past `max_entries`, expired answers
    go first, then the least recently used.
    """

    def __init__(
        self,
        ttl: TtlPolicy,
        *,
        max_entries: int = LOCAL_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._entries: TLRUCache[uuid.UUID, CachedLookup] = TLRUCache(
            maxsize=max_entries, ttu=self._expires_at, timer=clock
        )
        self._lock = threading.Lock()

    def _expires_at(self, _: uuid.UUID, lookup: CachedLookup, now: float) -> float:
        return now + self._ttl.ttl_for(lookup.session)

    def get(self, session_id: uuid.UUID) -> CachedLookup | None:
        with self._lock:
            entry = self._entries.get(session_id)
        CACHE_EVENTS.labels("miss" if entry is None else "hit").inc()
        return entry

    def get_many(self, session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CachedLookup]:
        found: dict[uuid.UUID, CachedLookup] = {}
        for session_id in session_ids:
            cached = self.get(session_id)
            if cached is not None:
                found[session_id] = cached
        return found

    def put_many(self, answers: Mapping[uuid.UUID, SessionInfo | None]) -> None:
        with self._lock:
            for session_id, session in answers.items():
                if self._ttl.ttl_for(session) > 0:
                    self._entries[session_id] = CachedLookup(session)

    def invalidate(self, session_ids: Iterable[uuid.UUID]) -> None:
        with self._lock:
            for session_id in session_ids:
                self._entries.pop(session_id, None)


class RedisValidationCache:
    """Answers shared by every FacePass process through Redis, with per-answer expiry."""

    def __init__(self, redis: Redis, prefix: str, ttl: TtlPolicy) -> None:
        self._redis = redis
        self._prefix = f"{prefix}pixora-session:{_KEY_VERSION}:"
        self._ttl = ttl
        self._skip_until = 0.0

    def _key(self, session_id: uuid.UUID) -> str:
        return f"{self._prefix}{session_id}"

    def _available(self) -> bool:
        return time.monotonic() >= self._skip_until

    def _failed(self, action: str, exc: Exception) -> None:
        # Leave Redis alone for a moment, so an outage costs one timeout, not one per request.
        self._skip_until = time.monotonic() + REDIS_BACKOFF_S
        CACHE_EVENTS.labels("error").inc()
        logger.warning(
            "validation cache unavailable",
            extra={"action": action, "error_type": type(exc).__name__},
        )

    @staticmethod
    def _decode(raw: bytes | None) -> CachedLookup | None:
        if raw is None:
            return None
        if raw == _NOT_FOUND:
            return CachedLookup(None)
        try:
            return CachedLookup(SessionInfo.model_validate_json(raw))
        except ValidationError:
            return None  # an entry this version cannot read is a miss

    def get(self, session_id: uuid.UUID) -> CachedLookup | None:
        return self.get_many([session_id]).get(session_id)

    def get_many(self, session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CachedLookup]:
        if not session_ids:
            return {}
        if not self._available():
            CACHE_EVENTS.labels("error").inc(len(session_ids))
            return {}
        try:
            if len(session_ids) == 1:
                values = [self._redis.get(self._key(session_ids[0]))]
            else:
                values = self._redis.mget([self._key(s) for s in session_ids])
        except (RedisError, OSError) as exc:
            self._failed("get", exc)
            return {}
        found: dict[uuid.UUID, CachedLookup] = {}
        for session_id, raw in zip(session_ids, values, strict=True):
            cached = self._decode(raw)  # type: ignore[arg-type]
            if cached is not None:
                found[session_id] = cached
        CACHE_EVENTS.labels("hit").inc(len(found))
        CACHE_EVENTS.labels("miss").inc(len(session_ids) - len(found))
        return found

    def put_many(self, answers: Mapping[uuid.UUID, SessionInfo | None]) -> None:
        if not answers or not self._available():
            return
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for session_id, session in answers.items():
                    ttl_ms = int(self._ttl.ttl_for(session) * 1000)
                    if ttl_ms <= 0:
                        continue
                    value = _NOT_FOUND if session is None else session.model_dump_json().encode()
                    pipe.set(self._key(session_id), value, px=ttl_ms)
                pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed("put", exc)

    def invalidate(self, session_ids: Iterable[uuid.UUID]) -> None:
        keys = [self._key(s) for s in session_ids]
        if not keys or not self._available():
            return
        try:
            self._redis.delete(*keys)
        except (RedisError, OSError) as exc:
            self._failed("invalidate", exc)


def build_validation_cache(settings: Settings, redis: Redis | None) -> ValidationCache:
    """Redis when configured, in-process otherwise; nothing when both TTLs are 0."""
    ttl = TtlPolicy(settings.cache_ttl_s, settings.cache_negative_ttl_s)
    if ttl.positive_s <= 0 and ttl.negative_s <= 0:
        return NoCache()
    if redis is not None:
        return RedisValidationCache(redis, settings.redis_key_prefix, ttl)
    return LocalValidationCache(ttl)
