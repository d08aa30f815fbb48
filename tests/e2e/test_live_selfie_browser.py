"""The live guided selfie on the real page: under the `live` policy the gallery is gone, the
page asks for a challenge before the camera opens, takes the frontal selfie, then the turn the
challenge asks for, and the server accepts the pair (a real person's frontal and turned photos,
CFP 201-300, as the fake camera's frames)."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from facepass.guest.challenge import Direction
from tests.conftest import ADMIN_TOKEN
from tests.e2e.conftest import FakeCamera, LiveServer, agree, screenshot
from tests.e2e.live_camera import CameraPerson, take_live_pair

pytestmark = pytest.mark.browser


def test_the_live_guided_selfie_finds_the_guest(  # type: ignore[no-untyped-def]
    open_page,
    live_server: LiveServer,
    fake_camera: FakeCamera,
    pixora_admin_url: str,
    camera_person: CameraPerson,
) -> None:
    session_id, photos = camera_person.session(live_server, pixora_admin_url)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    policy = httpx.put(
        f"{live_server.base_url}/api/v1/sessions/{session_id}/selfie-policy",
        headers=admin,
        json={"selfie_policy": "live"},
    )
    assert policy.status_code == 200, policy.text
    try:
        fake_camera.show(camera_person.frontal)
        page = open_page(f"/s/{session_id}")
        agree(page)
        # `live`: no gallery photo may search, so the page offers none.
        assert not page.locator("#upload-label").is_visible()
        with page.expect_response(re.compile(r"/challenge$")) as issued:
            page.get_by_role("button", name="Take a selfie").click()
        challenge = issued.value.json()
        direction = Direction(challenge["direction"])
        page.locator("#camera").wait_for()
        page.wait_for_function("() => !document.getElementById('capture').disabled")
        page.get_by_role("button", name="Capture").click()
        page.locator("#review").wait_for()
        # Only the turn the challenge asks for, and no search before it is taken.
        turn = page.get_by_role("button", name=f"Turn a little to the {direction.value}")
        other = "right" if direction is Direction.LEFT else "left"
        assert turn.is_visible()
        assert not page.get_by_role("button", name=f"Turn a little to the {other}").is_visible()
        assert page.locator("#search").is_disabled()
        screenshot(page, "40-live-review-asks-the-turn")

        fake_camera.show(camera_person.turned[direction])
        turn.click()
        page.locator("#camera").wait_for()
        guide = page.locator("#camera-guide").inner_text()
        assert guide.startswith(f"Turn your head a little to the {direction.value}")
        page.wait_for_function("() => !document.getElementById('capture').disabled")
        page.get_by_role("button", name="Capture").click()
        page.locator("#review").wait_for()
        assert page.locator("#selfies img").count() == 2
        screenshot(page, "41-live-pair-taken")

        with page.expect_response(re.compile(r"/search$")) as searched:
            page.get_by_role("button", name="Find my photos").click()
        # Under `live` only a pair answering a challenge searches: the page's did, and used it.
        assert searched.value.status == 200, searched.value.text()
        replay = httpx.post(
            f"{live_server.base_url}/api/v1/sessions/{session_id}/search",
            files=[("selfie", ("a.jpg", camera_person.frontal_jpeg(), "image/jpeg"))] * 2,
            data={"challenge_id": challenge["challenge_id"]},
            timeout=60,
        )
        assert replay.status_code == 403
        assert replay.json()["error"]["code"] == "CHALLENGE_INVALID"
        found = {uuid.UUID(m["photo_id"]) for m in searched.value.json()["matches"]}
        assert found
        assert found <= photos
        page.locator("#results").wait_for()
        screenshot(page, "42-live-results")
    finally:
        fake_camera.reset()


def test_add_someone_under_the_live_policy_takes_their_live_pair(  # type: ignore[no-untyped-def]
    open_page,
    live_server: LiveServer,
    fake_camera: FakeCamera,
    pixora_admin_url: str,
    camera_person: CameraPerson,
) -> None:
    """ "Add someone" asks the second person for the same live pair (a challenge of its own):
    under `live` a single frame would be refused. The fake camera has one real person, so the
    second person is the first again; the union itself is tested on the API."""
    session_id, photos = camera_person.session(live_server, pixora_admin_url)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    policy = httpx.put(
        f"{live_server.base_url}/api/v1/sessions/{session_id}/selfie-policy",
        headers=admin,
        json={"selfie_policy": "live"},
    )
    assert policy.status_code == 200, policy.text
    try:
        page = open_page(f"/s/{session_id}")
        agree(page)
        take_live_pair(page, fake_camera, camera_person)
        with page.expect_response(re.compile(r"/search$")) as searched:
            page.get_by_role("button", name="Find my photos").click()
        assert searched.value.status == 200, searched.value.text()
        page.locator("#results").wait_for()
        page.get_by_role("button", name="Add someone").click()
        page.locator("#family-consent").wait_for()
        second = take_live_pair(
            page, fake_camera, camera_person, start="They agree, take their selfie"
        )
        assert second["challenge_id"]
        with page.expect_response(re.compile(r"/results/merge$")) as merged:
            page.get_by_role("button", name="Find my photos").click()
        assert merged.value.status == 200, merged.value.text()
        assert merged.value.json()["people"] == 2
        page.locator("#results").wait_for()
        found = {uuid.UUID(m["photo_id"]) for m in merged.value.json()["matches"]}
        assert found
        assert found <= photos
    finally:
        fake_camera.reset()
