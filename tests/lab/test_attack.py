"""Issue 16's replayed attack as a test: one anonymous client, from one selfie of itself,
against a live server holding an event of six guests. What the server's limits alone already
bound: no 5xx, and opt-outs that remove faces at most the per-address limit. (The goal, 0
other guests removed and 0 foreign photos obtained, is what `facepass bench attack` prints;
docs/hardening.md says what it measures.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facepass.guest.ratelimit import Limit
from facepass.lab.bench.attack import GUESTS, attack, build_event
from tests.conftest import SHARED_DATA
from tests.search.conftest import create_pixora_session, search_settings

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "lfw").is_dir(), reason="needs ../shared/data/lfw"
)


def test_the_event_has_every_guest_in_several_photos() -> None:
    event = build_event(SHARED_DATA, photos=12)
    appearances = {guest: 0 for guest in range(len(GUESTS))}
    for photo in event.photos:
        for place in photo.placed:
            appearances[place.guest] += 1
        assert 2 <= len(photo.placed) <= 4
    assert min(appearances.values()) >= 2


def test_the_replayed_attack_meets_the_servers_limits(
    own_db_url: str, pixora_url: str, pixora_admin_url: str, tmp_path: Path
) -> None:
    session_id = create_pixora_session(pixora_admin_url, name="Attack")
    settings = search_settings(own_db_url, pixora_url, tmp_path / "data")
    result = attack(
        settings,
        SHARED_DATA,
        duration_s=40,
        photos=12,
        session_id=str(session_id),
        child_process=False,
    )
    print(json.dumps(result, indent=2))
    assert result["server_errors"] == 0
    assert result["photos_showing_own_face"] >= 1
    assert result["photos_obtained"] >= 1  # its own photos: the client is a genuine guest
    assert (
        result["opt_outs_accepted_removing_faces"]
        <= Limit.parse(settings.opt_out_rate_limit).requests
    )
    assert result["faces_after"] <= result["faces_before"]
