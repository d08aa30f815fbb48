"""A selfie pair is live only if its challenge is fresh and unused, the second face turns the
asked way, both faces are one person and the anti-spoofing model finds each frame live."""

from __future__ import annotations

import httpx
import pytest

from facepass.engine import get_engine
from facepass.engine.antispoof import get_antispoof
from facepass.guest.challenge import Direction
from facepass.lab.liveserver import live_server
from facepass.search.live_pair import analyze_frame
from tests.liveness.conftest import (
    LiveWorld,
    astronaut_front,
    astronaut_turned_left,
    challenge,
    challenge_towards,
    pair_form,
    sample,
)

UPSTREAM_THRESHOLD = 0.5  # upstream's argmax point; the default is the tuned one


def _search(client: httpx.Client, world: LiveWorld, front: bytes, turned: bytes, issued):  # type: ignore[no-untyped-def]
    files, data = pair_form(front, turned, issued["challenge_id"])
    return client.post(f"/api/v1/sessions/{world.session_id}/search", files=files, data=data)


def test_a_turn_the_wrong_way_is_refused_and_its_challenge_is_used_up(
    client: httpx.Client, world: LiveWorld
) -> None:
    issued = challenge_towards(client, world.session_id, Direction.RIGHT)
    # The fake camera's turned frame turns to her left: not what was asked.
    refused = _search(client, world, astronaut_front(), astronaut_turned_left(), issued)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "LIVE_NOT_TURNED"
    again = _search(client, world, astronaut_front(), astronaut_turned_left(), issued)
    assert again.status_code == 403
    assert again.json()["error"]["code"] == "CHALLENGE_INVALID"


def test_the_same_frontal_frame_twice_is_not_a_turn(client: httpx.Client, world: LiveWorld) -> None:
    for direction in Direction:
        issued = challenge_towards(client, world.session_id, direction)
        refused = _search(client, world, astronaut_front(), astronaut_front(), issued)
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "LIVE_NOT_TURNED"


def test_a_live_pair_is_two_selfies(client: httpx.Client, world: LiveWorld) -> None:
    issued = challenge(client, world.session_id)
    one = client.post(
        f"/api/v1/sessions/{world.session_id}/search",
        files=[("selfie", ("front.jpg", astronaut_front(), "image/jpeg"))],
        data={"challenge_id": str(issued["challenge_id"])},
    )
    assert one.status_code == 422
    assert one.json()["error"]["code"] == "LIVE_PAIR_REQUIRED"


def test_an_unknown_or_another_sessions_challenge_is_refused(
    client: httpx.Client, world: LiveWorld
) -> None:
    for challenge_id in ("made-up", "x" * 64):
        files, data = pair_form(astronaut_front(), astronaut_turned_left(), challenge_id)
        refused = client.post(f"/api/v1/sessions/{world.session_id}/search", files=files, data=data)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "CHALLENGE_INVALID"
    # Another session's challenge (the CFP session's, else the disabled one's path).
    other = client.post(f"/api/v1/sessions/{world.session_id}/challenge").json()
    files, data = pair_form(astronaut_front(), astronaut_turned_left(), other["challenge_id"])
    elsewhere = world.cfp.session_id if world.cfp else world.disabled_session_id
    answer = client.post(f"/api/v1/sessions/{elsewhere}/search", files=files, data=data)
    assert answer.status_code == 403


def test_two_different_people_are_not_a_live_pair(client: httpx.Client, world: LiveWorld) -> None:
    other_person = sample("T1")  # a live face turned to his left (yaw ~ +28)
    issued = challenge_towards(client, world.session_id, Direction.LEFT)
    refused = _search(client, world, astronaut_front(), other_person, issued)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "LIVE_NOT_SAME_PERSON"


def test_the_upstream_print_and_screen_samples_are_not_live_at_upstreams_threshold(
    world: LiveWorld,
) -> None:
    engine = get_engine()
    antispoof = get_antispoof(engine.config)
    scores = {
        name: analyze_frame(engine, antispoof, sample(name), 0, allow_turned=True).live_score
        for name in ("T1", "F1", "F2")
    }
    assert scores["T1"] >= UPSTREAM_THRESHOLD > max(scores["F1"], scores["F2"]), scores
    # The operator's strict setting (upstream's decision point): FACEPASS_LIVE_SPOOF_THRESHOLD.
    strict = world.settings.model_copy(update={"live_spoof_threshold": UPSTREAM_THRESHOLD})
    with (
        live_server(strict, run_migrations=False, start_background=False) as base,
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        # The screen (F2) looking at the camera, then the live photo (T1) of the same man
        # turned the way asked: refused by the anti-spoofing model alone.
        issued = challenge_towards(client, world.session_id, Direction.LEFT)
        refused = _search(client, world, sample("F2"), sample("T1"), issued)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "LIVE_SPOOF_SUSPECTED"


def test_a_genuine_live_pair_searches_and_opts_out(client: httpx.Client, world: LiveWorld) -> None:
    if world.cfp is None:
        pytest.skip("needs CFP (../shared/data/cfp) for a real person's frontal and turned photo")
    cfp = world.cfp
    direction, turned = next(iter(cfp.turned.items()))
    issued = challenge_towards(client, cfp.session_id, direction)
    files, data = pair_form(cfp.frontal, turned, issued["challenge_id"])
    found = client.post(f"/api/v1/sessions/{cfp.session_id}/search", files=files, data=data)
    assert found.status_code == 200, found.text
    answer = found.json()
    assert len(answer["query_faces"]) == 2
    matches = {m["photo_id"] for m in answer["matches"]}
    assert matches
    assert matches <= {str(p) for p in cfp.photos}
    # The same challenge never answers twice.
    replay = client.post(f"/api/v1/sessions/{cfp.session_id}/search", files=files, data=data)
    assert replay.status_code == 403
    # An opt-out with a fresh live pair removes the person.
    issued = challenge_towards(client, cfp.session_id, direction)
    files, data = pair_form(cfp.frontal, turned, issued["challenge_id"])
    removed = client.post(f"/api/v1/sessions/{cfp.session_id}/opt-out", files=files, data=data)
    assert removed.status_code == 200, removed.text
    assert removed.json()["faces_removed"] >= 1
