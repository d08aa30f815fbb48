"""The challenge of a live selfie: issued before the camera opens, used once, within a minute.

`POST /api/v1/sessions/{id}/challenge` issues an id and a random direction (the guest's own left
or right); the selfie pair that answers it must come within `CHALLENGE_TTL_S` and may be tried
once: the first search or opt-out that names it consumes it, whatever the verdict. With Redis
configured the challenge lives there (`SET NX EX`, consumed by `GETDEL`), so any API process can
check what another issued; without Redis (the embedded default), or while Redis is down, in this
process's memory. A challenge holds a session id, a direction and two times: nothing of a face.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from redis import Redis
from redis.exceptions import RedisError

from facepass.errors import Forbidden

logger = logging.getLogger(__name__)

CHALLENGE_TTL_S = 60
# Kept this long after expiry, so a late answer is told "expired", not "unknown".
_GRACE_S = 300
_MAX_ID_CHARS = 64


class Direction(StrEnum):
    """Which way a challenge asks the guest to turn: their own left or right."""

    LEFT = "left"
    RIGHT = "right"


class ChallengeRefused(Forbidden):
    """The challenge named is unknown, already used, expired, or another session's (403)."""

    code = "CHALLENGE_INVALID"


@dataclass(frozen=True, slots=True)
class Challenge:
    id: str
    session_id: uuid.UUID
    direction: Direction
    issued_at: float
    expires_at: float

    def to_json(self) -> str:
        return json.dumps(
            {
                "s": str(self.session_id),
                "d": self.direction.value,
                "i": self.issued_at,
                "e": self.expires_at,
            }
        )

    @classmethod
    def from_json(cls, challenge_id: str, raw: str | bytes) -> Challenge:
        value = json.loads(raw)
        return cls(
            challenge_id,
            uuid.UUID(value["s"]),
            Direction(value["d"]),
            float(value["i"]),
            float(value["e"]),
        )


class _MemoryChallenges:
    """Challenges of this process (embedded default, or while Redis is down)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def put(self, challenge: Challenge, keep_s: float) -> None:
        with self._lock:
            now = time.time()
            for key in [k for k, (until, _) in self._items.items() if until < now]:
                del self._items[key]
            self._items[challenge.id] = (now + keep_s, challenge.to_json())

    def take(self, challenge_id: str) -> str | None:
        with self._lock:
            item = self._items.pop(challenge_id, None)
        if item is None or item[0] < time.time():
            return None
        return item[1]


class ChallengeStore:
    """Issues and consumes challenges: in Redis when there is one, else in memory."""

    def __init__(self, redis: Redis | None, key_prefix: str, ttl_s: int = CHALLENGE_TTL_S) -> None:
        self._redis = redis
        self._prefix = f"{key_prefix}challenge:"
        self.ttl_s = ttl_s
        self._memory = _MemoryChallenges()
        self._warned_at = -math.inf

    @property
    def backend(self) -> str:
        return "redis" if self._redis is not None else "memory"

    def issue(self, session_id: uuid.UUID) -> Challenge:
        """A new challenge for the session: a random direction, valid for ttl_s seconds."""
        now = time.time()
        challenge = Challenge(
            id=secrets.token_urlsafe(18),
            session_id=session_id,
            direction=secrets.choice(list(Direction)),
            issued_at=now,
            expires_at=now + self.ttl_s,
        )
        keep_s = self.ttl_s + _GRACE_S
        if self._redis is not None:
            try:
                self._redis.set(
                    self._prefix + challenge.id, challenge.to_json(), nx=True, ex=keep_s
                )
                return challenge
            except RedisError:
                self._warn()
        self._memory.put(challenge, keep_s)
        return challenge

    def consume(self, challenge_id: str, session_id: uuid.UUID) -> Challenge:
        """The challenge, removed so it can never answer twice; ChallengeRefused unless it is
        this session's and still fresh."""
        if not challenge_id or len(challenge_id) > _MAX_ID_CHARS or not challenge_id.isascii():
            raise ChallengeRefused("Unknown challenge: ask for a new one.")
        raw: str | bytes | None = None
        if self._redis is not None:
            try:
                raw = self._redis.getdel(self._prefix + challenge_id)  # type: ignore[assignment]
            except RedisError:
                self._warn()
        if raw is None:
            raw = self._memory.take(challenge_id)
        if raw is None:
            raise ChallengeRefused("Unknown or already used challenge: ask for a new one.")
        challenge = Challenge.from_json(challenge_id, raw)
        if challenge.session_id != session_id:
            raise ChallengeRefused("This challenge belongs to another session.")
        if time.time() > challenge.expires_at:
            raise ChallengeRefused(
                "The challenge expired: take the two selfies within a minute.",
                code="CHALLENGE_EXPIRED",
            )
        return challenge

    def _warn(self) -> None:
        if time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            logger.warning("Redis unavailable for live-selfie challenges; using this process's")
