"""'Remove me from this event's search' in a real browser: under the results, a second selfie,
and the guest is gone from the session's search (a session of its own: the shared one keeps
its astronaut for the other browser tests)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from facepass.demo_photos import astronaut_selfie, demo_photo_set
from tests.e2e.conftest import LiveServer, _upload_and_wait, agree, screenshot
from tests.e2e.test_guest_page_browser import gallery_photo_ids, upload_selfie
from tests.search.conftest import create_pixora_session, jpeg

pytestmark = pytest.mark.browser


def test_a_guest_removes_themselves_from_the_events_search(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer, pixora_admin_url: str, tmp_path: Path
) -> None:
    photos = demo_photo_set()
    astronaut = [p for p in photos if p.shows_astronaut][:2]
    others = [p for p in photos if not p.shows_astronaut][:1]
    session_id = create_pixora_session(pixora_admin_url, name="Opt-out")
    ids = _upload_and_wait(live_server.base_url, session_id, astronaut + others)
    astronaut_ids = {ids[p.filename] for p in astronaut}
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut_selfie()))

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
    page.set_input_files("#file-input", str(selfie))
    message = page.locator("#message-text")
    page.wait_for_function(
        "() => document.getElementById('message-text').textContent.startsWith('Done:')"
    )
    assert message.inner_text() == (
        "Done: 2 faces removed. This event's search will not find you again."
    )
    assert page.locator("#intro").is_visible()
    screenshot(page, "31-opted-out")

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
