"""The guest page in a real browser: camera, upload, gallery, errors, both languages."""

from __future__ import annotations

import uuid

import pytest

from facepass.demo_photos import astronaut_selfie
from tests.e2e.conftest import LiveServer, screenshot
from tests.search.conftest import jpeg

pytestmark = pytest.mark.browser


def gallery_photo_ids(page) -> set[uuid.UUID]:  # type: ignore[no-untyped-def]
    ids = page.eval_on_selector_all("#gallery img", "els => els.map(e => e.dataset.photoId)")
    return {uuid.UUID(i) for i in ids}


def wait_for_thumbnails(page) -> None:  # type: ignore[no-untyped-def]
    """Every thumbnail actually loaded through its signed link."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gallery img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )


def test_camera_selfie_shows_exactly_her_photos(open_page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = open_page(f"/s/{live_server.session_id}")
    screenshot(page, "01-intro-en")
    page.get_by_role("button", name="Take a selfie").click()
    capture = page.get_by_role("button", name="Capture")
    capture.wait_for()
    page.wait_for_function("() => !document.getElementById('capture').disabled")
    page.wait_for_function("() => document.getElementById('video').videoWidth > 0")
    screenshot(page, "02-camera")
    capture.click()
    page.locator("#review").wait_for()
    screenshot(page, "03-review")
    page.get_by_role("button", name="Find my photos").click()
    page.locator("#results").wait_for()
    wait_for_thumbnails(page)
    screenshot(page, "04-results")
    assert gallery_photo_ids(page) == live_server.astronaut_photos
    assert page.locator("#results-title").inner_text() == (
        f"Found {len(live_server.astronaut_photos)} photos"
    )
    assert page.locator("#status").inner_text() == page.locator("#results-title").inner_text()

    # Full view in the lightbox, then the next photo by keyboard.
    page.locator("#gallery button").first.click()
    lightbox = page.locator("#lightbox")
    lightbox.wait_for()
    page.wait_for_function(
        "() => document.getElementById('lightbox-image').complete"
        " && document.getElementById('lightbox-image').naturalWidth > 0"
    )
    first = page.locator("#lightbox-image").get_attribute("src")
    assert "/large?" in (first or "")
    screenshot(page, "05-lightbox", full_page=False)  # the top layer, as seen
    page.keyboard.press("ArrowRight")
    assert page.locator("#lightbox-image").get_attribute("src") != first
    page.keyboard.press("Escape")
    lightbox.wait_for(state="hidden")

    # Download all: a ZIP of the originals.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download all (ZIP)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")


def test_upload_fallback_finds_her_too(open_page, live_server: LiveServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut_selfie((1600, 1200))))
    page = open_page(f"/api/v1/sessions/{live_server.session_id}/interface")
    page.set_input_files("#file-input", str(selfie))
    page.locator("#results").wait_for()
    wait_for_thumbnails(page)
    assert gallery_photo_ids(page) == live_server.astronaut_photos
    screenshot(page, "06-upload-results")


def test_a_photo_without_a_face_gets_advice(open_page, live_server: LiveServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image
    from skimage import data

    no_face = tmp_path / "coffee.jpg"
    no_face.write_bytes(jpeg(Image.fromarray(data.coffee())))
    page = open_page(f"/s/{live_server.session_id}")
    page.set_input_files("#file-input", str(no_face))
    message = page.get_by_role("alert")
    message.wait_for()
    assert "No face found" in message.inner_text()
    assert page.locator("#intro").is_visible()
    screenshot(page, "07-no-face-advice")


def test_russian_page_and_results(open_page, live_server: LiveServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut_selfie()))
    page = open_page(f"/s/{live_server.session_id}", locale="ru-RU")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_role("button", name="Сделать селфи").is_visible()
    assert page.get_by_text("Свадьба Анны и Ивана").is_visible()
    screenshot(page, "08-intro-ru")
    page.set_input_files("#file-input", str(selfie))
    page.locator("#results").wait_for()
    assert page.locator("#results-title").inner_text() == "Найдено 6 фотографий"
    screenshot(page, "09-results-ru")
    # The switch to English is remembered.
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"/s/{live_server.session_id}")
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.parametrize(
    ("which", "status", "heading"),
    [
        ("unknown", 404, "Съёмка не найдена"),
        ("disabled", 403, "Поиск по лицу выключен"),
    ],
)
def test_error_pages(
    open_page, live_server: LiveServer, which: str, status: int, heading: str
) -> None:  # type: ignore[no-untyped-def]
    session_id = uuid.uuid4() if which == "unknown" else live_server.disabled_session_id
    page = open_page(f"/s/{session_id}", locale="ru-RU")
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert page.locator("#start-camera").count() == 0
    screenshot(page, f"10-error-{status}")


def test_no_photos_yet_then_rate_limited(
    open_page, live_server: LiveServer, pixora_admin_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """An empty session says so with its indexing state; a second try too soon says when."""
    from tests.e2e.conftest import serving
    from tests.search.conftest import create_pixora_session

    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut_selfie()))
    empty = create_pixora_session(pixora_admin_url)
    limited = live_server.settings.model_copy(
        update={
            "search_rate_limit": "1/minute",
            "redis_key_prefix": f"{live_server.settings.redis_key_prefix}{uuid.uuid4().hex[:6]}:",
        }
    )
    with serving(limited) as base_url:
        page = open_page(f"/s/{empty}", base_url=base_url)
        page.set_input_files("#file-input", str(selfie))
        page.locator("#no-results").wait_for()
        assert page.locator("#index-state").inner_text() == "Photos processed: 0."
        screenshot(page, "11-no-photos-yet")
        page.get_by_role("button", name="Search again").click()
        page.set_input_files("#file-input", str(selfie))
        message = page.get_by_role("alert")
        message.wait_for()
        assert "Too many tries. Try again in" in message.inner_text()
        assert page.locator("#start-camera").is_disabled()
        screenshot(page, "12-rate-limited")
