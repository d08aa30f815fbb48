"""The guest's visit in a real browser (phone viewport unless said): consent, camera with a
turned second angle, a gallery that survives Back, reload, a language switch and expired links,
saving, a stalled upload, guests behind one address, the QR poster, both languages, errors."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import httpx
import pytest

from facepass.demo_photos import astronaut_selfie
from facepass.guest.signing import MediaSigner
from facepass.lab.camera import turned_selfie
from tests.e2e.conftest import FakeCamera, LiveServer, agree, screenshot
from tests.search.conftest import jpeg

pytestmark = pytest.mark.browser

# Counts getUserMedia calls: the consent screen must come before any.
COUNT_CAMERA = """
window.__cameraCalls = 0;
if (navigator.mediaDevices) {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => { window.__cameraCalls += 1; return real(c); };
}
"""
DENY_CAMERA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("denied", "NotAllowedError"));
"""
# A phone's share sheet: records what the page hands it.
SHARE_SHEET = """
window.__shared = [];
navigator.canShare = (data) => !!(data && data.files);
navigator.share = (data) => {
  window.__shared.push(data.files.map((f) => [f.name, f.type, f.size]));
  return Promise.resolve();
};
"""


def gallery_photo_ids(page) -> set[uuid.UUID]:  # type: ignore[no-untyped-def]
    ids = page.eval_on_selector_all("#gallery img", "els => els.map(e => e.dataset.photoId)")
    return {uuid.UUID(i) for i in ids}


def wait_for_thumbnails(page) -> None:  # type: ignore[no-untyped-def]
    """Every thumbnail actually loaded through its signed link."""
    page.wait_for_function(
        "() => document.querySelectorAll('#gallery img').length > 0 && "
        "[...document.querySelectorAll('#gallery img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )


def upload_selfie(page, path: Path) -> None:  # type: ignore[no-untyped-def]
    page.set_input_files("#file-input", str(path))
    page.locator("#results").wait_for()
    wait_for_thumbnails(page)


def small_targets(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Visible buttons and links smaller than 44 x 44 CSS px."""
    return page.evaluate(
        """() => [...document.querySelectorAll('button, a, label.button')]
             .filter(e => e.offsetParent !== null)
             .map(e => [e.id || e.textContent.trim(), e.getBoundingClientRect()])
             .filter(([, r]) => r.width < 44 || r.height < 44)
             .map(([name, r]) => `${name} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )


def camera_ready(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#camera").wait_for()
    page.wait_for_function("() => !document.getElementById('capture').disabled")
    page.wait_for_function("() => document.getElementById('video').videoWidth > 0")


def test_consent_camera_two_angles_and_a_gallery_that_lasts(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer, fake_camera: FakeCamera
) -> None:
    page = open_page(f"/s/{live_server.session_id}", init_script=COUNT_CAMERA)
    # Consent gates the camera: nothing to press, and no camera asked for, before the tap.
    assert page.locator("#consent").is_visible()
    assert not page.locator("#start-camera").is_visible()
    assert page.evaluate("window.__cameraCalls") == 0
    assert "guest-page-1" in page.content()
    screenshot(page, "01-consent")
    agree(page)
    assert small_targets(page) == []
    screenshot(page, "02-intro-en")

    page.get_by_role("button", name="Take a selfie").click()
    camera_ready(page)
    assert page.evaluate("window.__cameraCalls") == 1
    screenshot(page, "03-camera")
    page.get_by_role("button", name="Capture").click()
    page.locator("#review").wait_for()
    screenshot(page, "04-review-offers-angles")

    # The optional second angle: the fake camera now sees her head turned a little.
    try:
        # Turned enough to measure at a selfie's detection resolution (about 12 degrees).
        fake_camera.show(turned_selfie(turn=0.7))
        page.get_by_role("button", name="Turn a little to the left").click()
        camera_ready(page)
        guide = page.locator("#camera-guide").inner_text()
        assert guide.startswith("Turn your head a little to the left")
        screenshot(page, "05-camera-turn-left")
        page.get_by_role("button", name="Capture").click()
        page.locator("#review").wait_for()
    finally:
        fake_camera.reset()
    assert page.locator("#selfies img").count() == 2
    assert page.locator("#selfies img").nth(1).is_visible()
    assert not page.get_by_role("button", name="Turn a little to the left").is_visible()
    assert small_targets(page) == []  # the selfie's remove button included
    screenshot(page, "06-review-two-angles")

    with page.expect_response(re.compile(r"/search$")) as searched:
        page.get_by_role("button", name="Find my photos").click()
    answer = searched.value.json()
    assert len(answer["query_faces"]) == 2, answer["skipped_selfies"]
    # The second selfie really is turned: its yaw moved from the first's (signed: a frontal
    # face measures a few degrees either side of zero at a selfie's detection resolution).
    frontal, turned = (face["yaw"] for face in answer["query_faces"])
    assert abs(turned - frontal) > 5, (frontal, turned)
    page.locator("#results").wait_for()
    wait_for_thumbnails(page)
    assert gallery_photo_ids(page) == live_server.astronaut_photos
    title = f"Found {len(live_server.astronaut_photos)} photos"
    assert page.locator("#results-title").inner_text() == title
    assert page.locator("#status").inner_text() == title
    screenshot(page, "07-results")
    # The search carried the consent's version: the studio's analytics count it.
    usage = httpx.get(
        f"{live_server.base_url}/api/v1/sessions/{live_server.session_id}/usage",
        headers={"Authorization": f"Bearer {live_server.settings.admin_token}"},
    ).json()
    assert usage["searches_by_consent"].get("guest-page-1", 0) >= 1

    # Face-cropped thumbnails (item 7): the server's square crop around her face in each photo,
    # zoomed in (the face fills 2/5 of it), not the whole photo panned.
    sizes = page.eval_on_selector_all(
        "#gallery img", "els => els.map(e => [e.naturalWidth, e.naturalHeight, e.src])"
    )
    for width, height, src in sizes:
        assert (width, height) == (320, 320)
        assert "/face?box=" in src
    for match in answer["matches"]:
        assert match["face_url"].startswith(f"/media/{match['photo_id']}/face?box=")

    # Lightbox: counter, swipe to the next photo, Back closes it and keeps the gallery.
    page.locator("#gallery button").first.click()
    page.locator("#lightbox").wait_for()
    page.wait_for_function(
        "() => document.getElementById('lightbox-image').complete"
        " && document.getElementById('lightbox-image').naturalWidth > 0"
    )
    total = len(live_server.astronaut_photos)
    assert page.locator("#lightbox-counter").inner_text() == f"1 of {total}"
    first = page.locator("#lightbox-image").get_attribute("src")
    box = page.locator("#lightbox-image").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    assert page.locator("#lightbox-counter").inner_text() == f"2 of {total}"
    assert page.locator("#lightbox-image").get_attribute("src") != first
    screenshot(page, "08-lightbox", full_page=False)  # the top layer, as seen
    page.go_back()
    page.locator("#lightbox").wait_for(state="hidden")
    assert page.locator("#results").is_visible()
    assert page.url.endswith(f"/s/{live_server.session_id}")

    # Reload: the gallery again, without the consent screen or a selfie.
    page.reload()
    page.locator("#results").wait_for()
    wait_for_thumbnails(page)
    assert gallery_photo_ids(page) == live_server.astronaut_photos
    screenshot(page, "09-results-after-reload")

    # Language switch: the same gallery in Russian.
    page.get_by_role("link", name="Русский").click()
    page.wait_for_load_state()
    page.locator("#results").wait_for()
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("#results-title").inner_text() == f"Найдено {total} фотографий"
    screenshot(page, "10-results-ru")

    # A desktop window gets a wider grid; 200 % text still fits the phone's width.
    page.set_viewport_size({"width": 1280, "height": 900})
    width = page.eval_on_selector("#gallery button", "e => e.getBoundingClientRect().width")
    assert width >= 180
    screenshot(page, "11-results-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "12-results-200-percent-text")


def _expire_links(page, live_server: LiveServer) -> str:  # type: ignore[no-untyped-def]
    """Replace the kept links by real ones that expired (a phone whose clock runs late)."""
    key = f"facepass:results:{live_server.session_id}"
    kept = json.loads(page.evaluate(f"localStorage.getItem('{key}')"))
    assert live_server.settings.media_signing_key
    signer = MediaSigner(live_server.settings.media_signing_key, 3600)
    past = int(time.time()) - 60
    for match in kept["matches"]:
        photo = uuid.UUID(match["photo_id"])
        for size in ("thumb", "large", "original"):
            match[f"{size}_url"] = signer.media_path(photo, size, past)  # type: ignore[arg-type]
        match["download_token"] = signer.token(photo, past)
    kept["expires_at"] = int(time.time()) + 3600
    page.evaluate(f"localStorage.setItem('{key}', {json.dumps(json.dumps(kept))})")
    return str(kept["matches"][0]["thumb_url"])


def test_expired_links_are_refreshed_and_photos_saved(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer, tmp_path
) -> None:
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut_selfie((1600, 1200))))
    page = open_page(f"/api/v1/sessions/{live_server.session_id}/interface")
    agree(page)
    upload_selfie(page, selfie)

    expired = _expire_links(page, live_server)
    page.reload()
    page.locator("#results").wait_for()
    wait_for_thumbnails(page)  # loaded after a silent refresh of the links
    first = page.locator("#gallery img").first.get_attribute("src")
    assert first != expired
    assert page.locator("#message").is_hidden()
    screenshot(page, "13-expired-links-refreshed")

    # One photo from the lightbox: a single download (no share sheet on this browser),
    # through a link that had expired too.
    _expire_links(page, live_server)
    page.reload()
    page.locator("#results").wait_for()
    page.locator("#gallery button").first.click()
    with page.expect_download() as single:
        page.get_by_role("button", name="Save", exact=True).click()
    # Named by the event and the photo's id: the same name on every save, in any order.
    first_id = page.locator("#gallery img").first.get_attribute("data-photo-id")
    assert single.value.suggested_filename.endswith(f"-{first_id[:8]}.jpg")
    page.get_by_role("button", name="Close").click()
    page.locator("#lightbox").wait_for(state="hidden")

    # Select mode: two photos, saved as a ZIP named after the event (not the day of saving).
    page.get_by_role("button", name="Select").click()
    buttons = page.locator("#gallery button")
    buttons.nth(0).click()
    buttons.nth(1).click()
    assert page.locator("#selection-count").inner_text() == "2 selected"
    screenshot(page, "14-select-mode")
    with page.expect_download() as archive:
        page.get_by_role("button", name="Save selected").click()
    name = archive.value.suggested_filename
    assert name == "Свадьба-Анны-и-Ивана.zip", name

    # A photo deleted meanwhile: the guest reads why, in their language, never raw JSON.
    page.route(
        re.compile(r"/media/.*/original"),
        lambda route: route.fulfill(
            status=404,
            content_type="application/json",
            body='{"error": {"code": "PHOTO_NOT_FOUND", "detail": "gone"}}',
        ),
    )
    page.get_by_role("button", name="Done").click()
    page.locator("#gallery button").nth(2).click()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name="Close").click()
    message = page.locator("#message-text")
    message.wait_for()
    assert message.inner_text() == "This photo is no longer available."
    screenshot(page, "15-download-error")


def test_check_for_new_photos_without_a_new_selfie(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer, pixora_admin_url: str, tmp_path
) -> None:
    """A live event: photos keep arriving; the query token searches again, no selfie needed."""
    from facepass.demo_photos import demo_photo_set
    from tests.e2e.conftest import _upload_and_wait
    from tests.search.conftest import create_pixora_session

    hers = [p for p in demo_photo_set() if p.shows_astronaut][:2]
    session = create_pixora_session(pixora_admin_url, name="Марафон")
    _upload_and_wait(live_server.base_url, session, hers[:1])
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut_selfie()))
    page = open_page(f"/s/{session}")
    agree(page)
    upload_selfie(page, selfie)
    assert page.locator("#gallery img").count() == 1
    _upload_and_wait(live_server.base_url, session, hers[1:])
    page.get_by_role("button", name="Check for new photos").click()
    page.wait_for_function("() => document.querySelectorAll('#gallery img').length === 2")
    assert page.locator("#status").inner_text() == "New photos: 1."
    # Seen, not only heard (item 1): a visible note, and the new photo first, badged "New".
    assert page.locator("#notice").is_visible()
    assert page.locator("#notice").inner_text() == "New photos: 1."
    assert page.locator("#gallery .badge").count() == 1
    assert page.locator("#gallery li").first.locator(".badge").inner_text() == "New"
    screenshot(page, "26-new-photos-found")
    page.reload()  # the new results are the ones kept, the badge with them
    page.locator("#results").wait_for()
    assert page.locator("#gallery img").count() == 2
    assert page.locator("#gallery .badge").count() == 1
    page.get_by_role("button", name="Check for new photos").click()
    page.locator("#notice").wait_for()
    assert page.locator("#notice").inner_text() == "No new photos yet."
    assert page.locator("#gallery .badge").count() == 0


def test_share_sheet_saves_the_selection(open_page, live_server: LiveServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut_selfie()))
    page = open_page(f"/s/{live_server.session_id}", init_script=SHARE_SHEET)
    agree(page)
    upload_selfie(page, selfie)
    page.get_by_role("button", name="Select").click()
    page.locator("#gallery button").nth(0).click()
    page.locator("#gallery button").nth(1).click()
    page.get_by_role("button", name="Save selected").click()
    page.wait_for_function("() => window.__shared.length === 1")
    shared = page.evaluate("window.__shared[0]")
    assert [(type_, size > 0) for _, type_, size in shared] == [("image/jpeg", True)] * 2


def _short_upload_timeout(route) -> None:  # type: ignore[no-untyped-def]
    """The page as served, with a 1.5 s upload timeout instead of the configured one."""
    answer = route.fetch()
    body = re.sub(r'"upload_timeout_ms":\d+', '"upload_timeout_ms":1500', answer.text())
    route.fulfill(response=answer, body=body)


def test_a_stalled_upload_times_out_can_be_cancelled_and_retried(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer
) -> None:
    page = open_page("about:blank")
    page.route(re.compile(rf"/s/{live_server.session_id}$"), _short_upload_timeout)
    page.goto(f"/s/{live_server.session_id}")
    agree(page)
    page.get_by_role("button", name="Take a selfie").click()
    camera_ready(page)
    page.get_by_role("button", name="Capture").click()
    page.locator("#review").wait_for()
    stalled: list[object] = []
    page.route(re.compile(r"/search$"), lambda route: stalled.append(route))  # never answered
    # Silence past the timeout: the page gives up, says why, and offers a retry.
    page.get_by_role("button", name="Find my photos").click()
    page.locator("#progress").wait_for()
    screenshot(page, "16-upload-stalled")
    message = page.locator("#message-text")
    message.wait_for()
    assert message.inner_text() == (
        "The server is taking too long. Check your connection and try again."
    )
    assert page.locator("#selfies img").count() == 1
    screenshot(page, "16b-upload-timed-out")
    # Or the guest gives up first.
    with page.expect_request(re.compile(r"/search$")):
        page.locator("#message-retry").click()
    page.locator("#progress").wait_for()
    page.wait_for_function("() => true")  # one round trip: the route handler has run
    assert len(stalled) == 2
    page.locator("#cancel-upload").click()
    page.locator("#review").wait_for()
    assert page.locator("#message-text").inner_text() == "Sending cancelled."
    assert page.locator("#selfies img").count() == 1  # the selfie is kept for the retry
    screenshot(page, "17-upload-cancelled")
    page.unroute(re.compile(r"/search$"))
    page.get_by_role("button", name="Try again").click()
    page.locator("#results").wait_for()
    wait_for_thumbnails(page)
    assert gallery_photo_ids(page) == live_server.astronaut_photos


def test_after_a_camera_denial_the_gallery_comes_first(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer, tmp_path
) -> None:
    page = open_page(f"/s/{live_server.session_id}", init_script=DENY_CAMERA)
    agree(page)
    assert page.locator("#file-input").get_attribute("capture") is None
    page.get_by_role("button", name="Take a selfie").click()
    message = page.locator("#message-text")
    message.wait_for()
    assert message.inner_text().startswith("Camera access was denied")
    assert "primary" in (page.locator("#upload-label").get_attribute("class") or "")
    first_action = page.eval_on_selector("#intro-actions", "e => e.querySelector('.button').id")
    assert first_action == "upload-label"
    screenshot(page, "18-camera-denied-gallery-first")

    from PIL import Image
    from skimage import data

    no_face = tmp_path / "coffee.jpg"
    no_face.write_bytes(jpeg(Image.fromarray(data.coffee())))
    page.set_input_files("#file-input", str(no_face))
    page.wait_for_function(
        "() => document.getElementById('message-text').textContent.startsWith('No face found')"
    )
    assert page.locator("#intro").is_visible()
    screenshot(page, "19-no-face-advice")


def test_guests_behind_one_address_each_get_results(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer, pixora_admin_url: str, tmp_path
) -> None:
    """A venue's Wi-Fi: every browser is 127.0.0.1 here; each has its own limit, and the one
    who tries too often is told honestly when to retry (announced once, not every second)."""
    from tests.e2e.conftest import serving
    from tests.search.conftest import create_pixora_session

    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut_selfie()))
    limited = live_server.settings.model_copy(
        update={
            "search_device_rate_limit": "1/minute",
            "search_rate_limit": "100/minute",
            "redis_key_prefix": f"{live_server.settings.redis_key_prefix}{uuid.uuid4().hex[:6]}:",
        }
    )
    empty = create_pixora_session(pixora_admin_url)
    with serving(limited) as base_url:
        guests = [open_page(f"/s/{live_server.session_id}", base_url=base_url) for _ in range(2)]
        for guest in guests:
            agree(guest)
            upload_selfie(guest, selfie)
            assert gallery_photo_ids(guest) == live_server.astronaut_photos

        first = guests[0]
        first.get_by_role("button", name="New search").click()
        first.set_input_files("#file-input", str(selfie))
        countdown = first.locator("#countdown")
        countdown.wait_for()
        assert first.locator("#message-text").inner_text() == (
            "Too many tries from this device. Please wait a little."
        )
        assert countdown.get_attribute("aria-hidden") == "true"
        assert first.locator("#start-camera").is_disabled()
        before = first.locator("#status").inner_text()
        assert before.startswith("Too many tries. Try again in")
        first.wait_for_timeout(1500)
        assert first.locator("#status").inner_text() == before  # not re-announced each second
        assert countdown.inner_text() != before
        screenshot(first, "20-rate-limited")

        # An event without photos yet says so, with its indexing state.
        newcomer = open_page(f"/s/{empty}", base_url=base_url)
        agree(newcomer)
        newcomer.set_input_files("#file-input", str(selfie))
        newcomer.locator("#no-results").wait_for()
        assert newcomer.locator("#index-state").inner_text() == "Photos processed: 0."
        screenshot(newcomer, "21-no-photos-yet")


def test_the_poster_qr_code_leads_to_the_guest_page(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer
) -> None:
    import io

    import zxingcpp
    from PIL import Image

    page = open_page(f"/api/v1/sessions/{live_server.session_id}/poster?size=a5", desktop=True)
    assert page.get_by_role("heading", level=1).inner_text() == "Свадьба Анны и Ивана"
    screenshot(page, "22-poster-a5")
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator(".qr").screenshot())))
    assert [code.text for code in codes] == [f"{live_server.base_url}/s/{live_server.session_id}"]
    page.goto(codes[0].text)
    page.locator("#consent").wait_for()
    assert page.title().startswith("Свадьба Анны и Ивана")


def test_the_studios_branding_on_the_page(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer
) -> None:
    import base64
    import io

    from PIL import Image

    logo = io.BytesIO()
    Image.new("RGB", (120, 40), (20, 90, 60)).save(logo, "PNG")
    cover = next(iter(live_server.astronaut_photos))
    url = f"{live_server.base_url}/api/v1/sessions/{live_server.session_id}/branding"
    admin = {"Authorization": f"Bearer {live_server.settings.admin_token}"}
    values = {
        "event_date": "2026-11-28",
        "studio_name": "Студия «Свет»",
        "accent_color": "#1b5e20",
        "cover_photo_id": str(cover),
        "logo_base64": base64.b64encode(logo.getvalue()).decode(),
    }
    assert httpx.put(url, json=values, headers=admin).status_code == 200
    try:
        page = open_page(f"/s/{live_server.session_id}")
        page.wait_for_function(
            "() => ['#cover', 'header .logo'].every(s => document.querySelector(s).naturalWidth)"
        )
        accent = page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
        )
        assert accent == "#1b5e20"
        # The cover (item 4): a 640 x 320 crop around the photo's faces, not the 1600 px size.
        cover_src = page.locator("#cover").get_attribute("src") or ""
        assert f"/media/{cover}/cover?box=" in cover_src
        natural = page.eval_on_selector("#cover", "e => [e.naturalWidth, e.naturalHeight]")
        assert natural == [640, 320]
        weight = page.evaluate(
            "performance.getEntriesByType('resource')"
            ".filter(e => e.name.includes('/cover?')).map(e => e.encodedBodySize)"
        )
        assert 0 < weight[0] <= 40_000
        assert page.locator(".event-meta").inner_text().split("\n") == [
            "28 November 2026",
            "Студия «Свет»",
        ]
        screenshot(page, "25-branded-consent")
    finally:
        httpx.put(url, json={}, headers=admin)


def test_russian_page(open_page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = open_page(f"/s/{live_server.session_id}", locale="ru-RU")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_text("Свадьба Анны и Ивана").first.is_visible()
    agree(page)
    assert page.get_by_role("button", name="Сделать селфи").is_visible()
    screenshot(page, "23-intro-ru")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"/s/{live_server.session_id}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#intro").is_visible()  # consent is remembered for this version


@pytest.mark.parametrize(
    ("which", "status", "heading"),
    [
        ("unknown", 404, "Событие не найдено"),
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
    # Not a dead end (item 8): who to ask, and a disabled event still names itself.
    assert page.locator("#error-contact").is_visible()
    if which == "disabled":
        assert page.locator("#error-event").inner_text().startswith("search ")
    screenshot(page, f"24-error-{status}")
