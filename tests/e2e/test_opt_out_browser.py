"""'Remove me from this event's search' in a real browser: from the results or the consent
screen, a live selfie pair (the camera's frontal and turned frames of a real person, CFP
201-300: an opt-out always needs one), a confirmation step, and the guest is gone from the
session's search; the studio then restores the removal (sessions of their own: the shared one
keeps its astronaut for the other browser tests)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.e2e.conftest import FakeCamera, LiveServer, agree, screenshot
from tests.e2e.live_camera import CameraPerson, take_live_pair
from tests.e2e.test_guest_page_browser import gallery_photo_ids, upload_selfie

pytestmark = pytest.mark.browser


def test_a_guest_removes_themselves_from_the_events_search(  # type: ignore[no-untyped-def]
    open_page,
    live_server: LiveServer,
    pixora_admin_url: str,
    tmp_path: Path,
    fake_camera: FakeCamera,
    camera_person: CameraPerson,
) -> None:
    session_id, astronaut_ids = camera_person.session(live_server, pixora_admin_url)
    selfie = tmp_path / "selfie.jpg"  # a gallery photo searches (live_or_gallery here)
    selfie.write_bytes(camera_person.frontal_jpeg())

    page = open_page(f"/s/{session_id}")
    agree(page)
    upload_selfie(page, selfie)
    assert gallery_photo_ids(page) == astronaut_ids
    start = page.get_by_role("button", name="Remove me from this event's search")
    assert start.is_visible()
    screenshot(page, "30-results-with-opt-out")

    start.click()
    page.locator("#opt-out").wait_for()
    assert "stay with the studio" in page.locator("#opt-out").inner_text()
    page.locator("#opt-out-continue").click()
    page.locator("#intro").wait_for()
    assert not page.locator("#upload-label").is_visible()  # an opt-out needs the camera
    try:
        take_live_pair(page, fake_camera, camera_person)
    finally:
        fake_camera.reset()
    page.locator("#search").click()  # "Remove me"
    # Nothing is sent before the guest confirms: "this removes you from this event's search".
    page.locator("#opt-out-confirm").wait_for()
    confirm_text = page.locator("#opt-out-confirm-text").inner_text()
    assert "This removes you from this event's search" in confirm_text
    assert "14 days" in confirm_text
    screenshot(page, "31-opt-out-confirm")
    page.locator("#opt-out-confirm-yes").click()
    message = page.locator("#message-text")
    page.wait_for_function(
        "() => document.getElementById('message-text').textContent.startsWith('Done:')"
    )
    assert message.inner_text() == (
        f"Done: {len(astronaut_ids)} faces removed. This event's search will not find you again."
    )
    assert page.locator("#intro").is_visible()
    screenshot(page, "32-opted-out")

    # The browser forgot its results, and the session's search no longer finds her.
    page.reload()
    page.locator("#intro").wait_for()
    with httpx.Client(base_url=live_server.base_url, timeout=60) as client:
        answer = client.post(
            f"/api/v1/sessions/{session_id}/search",
            files=[("selfie", ("s.jpg", selfie.read_bytes(), "image/jpeg"))],
        )
    assert answer.status_code == 200, answer.text
    assert {uuid.UUID(m["photo_id"]) for m in answer.json()["matches"]}.isdisjoint(astronaut_ids)

    # The studio reviews the removal and restores it: she is found again.
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=live_server.base_url, headers=admin, timeout=60) as studio:
        removals = studio.get(f"/api/v1/sessions/{session_id}/removals").json()["removals"]
        assert [r["reason"] for r in removals] == ["opt_out"]
        assert {uuid.UUID(f["photo_id"]) for f in removals[0]["faces"]} == astronaut_ids
        restored = studio.post(
            f"/api/v1/sessions/{session_id}/removals/{removals[0]['id']}/restore"
        )
        assert restored.status_code == 200, restored.text
    if page.locator("#consent").is_visible():
        agree(page)
    upload_selfie(page, selfie)
    assert gallery_photo_ids(page) == astronaut_ids
    screenshot(page, "33-restored")


def test_an_opt_out_starts_from_the_consent_screen_and_can_be_cancelled(  # type: ignore[no-untyped-def]
    open_page,
    live_server: LiveServer,
    pixora_admin_url: str,
    tmp_path: Path,
    fake_camera: FakeCamera,
    camera_person: CameraPerson,
) -> None:
    session_id, photo_ids = camera_person.session(live_server, pixora_admin_url)
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(camera_person.frontal_jpeg())

    def found() -> set[uuid.UUID]:
        with httpx.Client(base_url=live_server.base_url, timeout=60) as client:
            answer = client.post(
                f"/api/v1/sessions/{session_id}/search",
                files=[("selfie", ("s.jpg", selfie.read_bytes(), "image/jpeg"))],
            )
        assert answer.status_code == 200, answer.text
        return {uuid.UUID(m["photo_id"]) for m in answer.json()["matches"]}

    page = open_page(f"/s/{session_id}")
    page.locator("#consent").wait_for()
    page.locator("#consent-opt-out").click()  # without agreeing to a search first
    page.locator("#opt-out").wait_for()
    page.locator("#opt-out-continue").click()
    page.locator("#intro").wait_for()
    try:
        take_live_pair(page, fake_camera, camera_person)
        page.locator("#search").click()  # "Remove me"
        page.locator("#opt-out-confirm").wait_for()
        page.locator("#opt-out-confirm-no").click()  # changed her mind: nothing was sent
        page.locator("#opt-out-confirm").wait_for(state="hidden")
        assert found() == photo_ids

        page.reload()
        page.locator("#consent-opt-out").click()
        page.locator("#opt-out-continue").click()
        take_live_pair(page, fake_camera, camera_person)
    finally:
        fake_camera.reset()
    page.locator("#search").click()  # "Remove me"
    page.locator("#opt-out-confirm-yes").click()
    page.wait_for_function(
        "() => document.getElementById('message-text').textContent.startsWith('Done:')"
    )
    assert found() == set()
