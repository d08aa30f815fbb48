"""The live-selfie challenge: issued per session, random direction, used once, expiring; shared
by every API process through Redis, kept in memory without it."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from redis import Redis

from facepass.guest.challenge import ChallengeRefused, ChallengeStore
from tests.conftest import REDIS_SERVER, RUN_ID
from tests.liveness.conftest import LiveWorld, challenge


def test_a_challenge_has_a_direction_an_expiry_and_the_sessions_policy(
    client: httpx.Client, world: LiveWorld
) -> None:
    issued = [challenge(client, world.session_id) for _ in range(20)]
    now = time.time()
    for item in issued:
        assert item["direction"] in ("left", "right")
        assert item["expires_in_s"] == 60
        assert now + 50 < float(item["expires_at"]) <= now + 61  # type: ignore[arg-type]
        assert item["selfie_policy"] == "live"
    assert len({item["challenge_id"] for item in issued}) == 20
    assert {item["direction"] for item in issued} == {"left", "right"}  # 2 ** -19 to fail


def test_challenges_only_for_sessions_with_facepass_on(
    client: httpx.Client, world: LiveWorld
) -> None:
    unknown = client.post(f"/api/v1/sessions/{uuid.uuid4()}/challenge")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "SESSION_NOT_FOUND"
    disabled = client.post(f"/api/v1/sessions/{world.disabled_session_id}/challenge")
    assert disabled.status_code == 403
    assert disabled.json()["error"]["code"] == "FACEPASS_DISABLED"
    malformed = client.post("/api/v1/sessions/not-a-uuid/challenge")
    assert malformed.status_code == 422


@pytest.fixture
def redis_prefix() -> str:
    return f"facepass-test:{RUN_ID}:{uuid.uuid4().hex[:6]}:"


@pytest.mark.services  # the machine's Redis, reached directly
def test_a_challenge_answers_once_whichever_api_process_asks(redis_prefix: str) -> None:
    # Two API processes: each its own Redis connection and store, one Redis between them.
    first, second = Redis.from_url(REDIS_SERVER), Redis.from_url(REDIS_SERVER)
    try:
        issuer, checker = ChallengeStore(first, redis_prefix), ChallengeStore(second, redis_prefix)
        session = uuid.uuid4()
        issued = issuer.issue(session)
        used = checker.consume(issued.id, session)
        assert (used.direction, used.session_id) == (issued.direction, session)
        for store in (checker, issuer):
            with pytest.raises(ChallengeRefused) as refused:
                store.consume(issued.id, session)
            assert refused.value.code == "CHALLENGE_INVALID"
        # Another session's challenge is refused (and used up: no second guess).
        other = issuer.issue(session)
        with pytest.raises(ChallengeRefused):
            checker.consume(other.id, uuid.uuid4())
        with pytest.raises(ChallengeRefused):
            checker.consume(other.id, session)
    finally:
        first.close()
        second.close()


@pytest.mark.services  # the machine's Redis, reached directly
def test_an_expired_challenge_is_refused_as_expired(redis_prefix: str) -> None:
    redis = Redis.from_url(REDIS_SERVER)
    try:
        store = ChallengeStore(redis, redis_prefix)
        session = uuid.uuid4()
        issued = store.issue(session)
        # The same challenge as Redis holds it a minute later (no test waits a minute).
        key = f"{redis_prefix}challenge:{issued.id}"
        value = json.loads(redis.get(key))  # type: ignore[arg-type]
        assert value["e"] - value["i"] == 60
        value["e"] = time.time() - 1
        redis.set(key, json.dumps(value), xx=True, keepttl=True)
        with pytest.raises(ChallengeRefused) as refused:
            store.consume(issued.id, session)
        assert refused.value.code == "CHALLENGE_EXPIRED"
        assert redis.get(key) is None
    finally:
        redis.close()


def test_without_redis_challenges_live_in_the_process() -> None:
    store = ChallengeStore(None, "unused:")
    session = uuid.uuid4()
    issued = store.issue(session)
    assert store.backend == "memory"
    assert store.consume(issued.id, session).direction == issued.direction
    with pytest.raises(ChallengeRefused):
        store.consume(issued.id, session)
    for bad in ("", "x" * 200, "é"):
        with pytest.raises(ChallengeRefused):
            store.consume(bad, session)


def test_while_redis_is_down_challenges_keep_working_in_the_process(redis_prefix: str) -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.1)
    store = ChallengeStore(down, redis_prefix)
    session = uuid.uuid4()
    issued = store.issue(session)
    assert store.consume(issued.id, session).id == issued.id
