"""The guest page when the server is full (429 SERVER_BUSY): a waiting state that says the
guest is next, and the search sent again by itself after Retry-After, in a real browser.

The first search meets the answer a saturated server gives (tests/search/test_crowd.py makes
a live server give it); the retry reaches the real server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from facepass.demo_photos import astronaut_selfie
from facepass.web.i18n import MESSAGES
from tests.e2e.conftest import LiveServer, agree, screenshot
from tests.e2e.test_guest_page_browser import gallery_photo_ids, wait_for_thumbnails
from tests.search.conftest import jpeg

pytestmark = pytest.mark.browser

BUSY = {
    "error": {
        "code": "SERVER_BUSY",
        "detail": "Many guests are searching right now: you are number 3 in line.",
        "request_id": "e2e",
    }
}


def test_a_full_server_keeps_the_guest_waiting_then_searches_again(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer, tmp_path: Path
) -> None:
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut_selfie()))
    page = open_page(f"/s/{live_server.session_id}")
    agree(page)
    sent: list[str] = []

    def full_once(route) -> None:  # type: ignore[no-untyped-def]
        sent.append(route.request.method)
        if len(sent) == 1:
            route.fulfill(
                status=429,
                headers={"Retry-After": "2", "X-FacePass-Queue-Position": "3"},
                content_type="application/json",
                body=json.dumps(BUSY),
            )
        else:
            route.continue_()

    page.route(re.compile(r"/search$"), full_once)
    page.set_input_files("#file-input", str(selfie))
    waiting = page.locator("#progress-text")
    page.wait_for_function(
        "text => document.getElementById('progress-text').textContent === text",
        arg=MESSAGES["en"]["busy_wait"],
    )
    assert page.locator("#progress").is_visible()  # no error, no spinner alone: the wait
    assert (
        waiting.inner_text()
        == "Many guests are searching, you are next. We will try again for you."
    )
    assert page.locator("#status").inner_text() == waiting.inner_text()
    assert page.locator("#cancel-upload").is_visible()
    screenshot(page, "40-many-guests-searching")
    page.locator("#results").wait_for()  # sent again by itself, answered by the real server
    wait_for_thumbnails(page)
    assert sent == ["POST", "POST"]
    assert gallery_photo_ids(page) == live_server.astronaut_photos
    screenshot(page, "41-found-after-waiting")


def test_the_guest_can_stop_waiting(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer, tmp_path: Path
) -> None:
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut_selfie()))
    page = open_page(f"/s/{live_server.session_id}")
    agree(page)
    sent: list[str] = []

    def always_full(route) -> None:  # type: ignore[no-untyped-def]
        sent.append(route.request.method)
        route.fulfill(
            status=429,
            headers={"Retry-After": "30", "X-FacePass-Queue-Position": "40"},
            content_type="application/json",
            body=json.dumps(BUSY),
        )

    page.route(re.compile(r"/search$"), always_full)
    page.set_input_files("#file-input", str(selfie))
    page.wait_for_function(
        "text => document.getElementById('progress-text').textContent === text",
        arg=MESSAGES["en"]["busy_wait"],
    )
    page.locator("#cancel-upload").click()
    page.locator("#review").wait_for()
    assert page.locator("#message-text").inner_text() == "Sending cancelled."
    assert page.locator("#selfies img").count() == 1  # the selfie is kept for a retry
    assert sent == ["POST"]  # no search went after the guest stopped waiting
