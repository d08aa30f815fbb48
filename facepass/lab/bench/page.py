"""`facepass bench page`: the guest page as a new guest meets it, in headless Chromium.

A phone viewport (390 x 844), a fresh browser profile per run, Chromium's fake camera showing the
astronaut's selfie, the demo session's ten photos indexed in an embedded FacePass. Measured:

- page weight: bytes over the wire (headers included, gzip where the server compresses) of
  everything loaded until the consent screen shows: HTML, CSS, JS, icon; and once more with a
  cover photo set (`with_cover`: the 640 x 320 crop around its faces);
- tap to results: from the tap on "Find my photos" (selfie taken) to every thumbnail of the
  first screen decoded, read with `performance.now()` inside the page, with one selfie (the
  session's policy `live_or_gallery`; under `live` the guest also takes the turned frame);

locally, and through Chrome's emulated "Fast 3G" (DevTools' preset: 562.5 ms latency,
1.44 Mbit/s down, 675 kbit/s up) set over CDP. Needs Debian's chromium and playwright (the
`test` extra).
"""

from __future__ import annotations

import json
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from facepass.config import get_settings
from facepass.lab.camera import write_y4m
from facepass.lab.liveserver import live_server
from facepass.lab.load import server_timing

CHROMIUM = Path("/usr/bin/chromium")
FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
    "uploadThroughput": 750 * 1024 / 8 * 0.9,
}
_WEIGHT = """() => {
  const entries = [performance.getEntriesByType('navigation')[0],
                   ...performance.getEntriesByType('resource')];
  return entries.map(e => ({name: e.name.split('?')[0].split('/').pop() || 'page',
                            transfer: e.transferSize, body: e.decodedBodySize}));
}"""
_THUMBS_DONE = """() => {
  const imgs = [...document.querySelectorAll('#gallery img')];
  return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""


def _upload_demo_photos(base_url: str, session_id: str, token: str) -> tuple[int, str]:
    """Upload and index the demo photos: how many were indexed, and one of the astronaut."""
    from facepass.demo_photos import demo_photo_set

    photos = demo_photo_set()
    files = [("files", (p.filename, p.data, "image/jpeg")) for p in photos]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
        answer = client.post(f"/api/v1/sessions/{session_id}/photos", files=files)
        answer.raise_for_status()
        ids = {f["filename"]: f["photo_id"] for f in answer.json()["files"]}
        hers = next(ids[p.filename] for p in photos if p.shows_astronaut)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = client.get(f"/api/v1/sessions/{session_id}/index-status").json()
            if status["complete"]:
                return int(status["photos"]["indexed"]), hers
            time.sleep(0.5)
    raise RuntimeError("the demo photos were not indexed in time")


def _weight_with_cover(browser: Any, url: str, base_url: str, token: str, photo: str) -> Any:
    """The consent screen's weight once the studio set a cover photo (the crop around its
    faces), measured locally; the branding is cleared again afterwards."""
    branding = f"{base_url}/api/v1/sessions/{url.rsplit('/', 1)[1]}/branding"
    headers = {"Authorization": f"Bearer {token}"}
    httpx.put(branding, json={"cover_photo_id": photo}, headers=headers).raise_for_status()
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-US"
    )
    try:
        page = context.new_page()
        page.goto(url)
        page.locator("#consent-agree").wait_for()
        page.wait_for_load_state("load")
        weight = page.evaluate(_WEIGHT)
    finally:
        context.close()
        httpx.put(branding, json={}, headers=headers).raise_for_status()
    return {
        "page_bytes": sum(int(e["transfer"]) for e in weight),
        "page_files": {e["name"]: e["transfer"] for e in weight},
    }


def _one_visit(browser: Any, url: str, network: dict[str, Any] | None) -> dict[str, Any]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-US"
    )
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        if network is not None:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", network)
        started = time.perf_counter()
        page.goto(url)
        page.locator("#consent-agree").wait_for()
        consent_s = time.perf_counter() - started
        page.wait_for_load_state("load")
        weight = page.evaluate(_WEIGHT)
        page.locator("#consent-agree").click()
        page.locator("#start-camera").click()
        page.wait_for_function("() => !document.getElementById('capture').disabled")
        page.locator("#capture").click()
        page.locator("#review").wait_for()
        page.evaluate(
            "document.getElementById('search').addEventListener('click',"
            " () => { window.__tapped = performance.now(); }, {capture: true})"
        )
        with page.expect_response(lambda r: r.url.endswith("/search")) as searched:
            page.locator("#search").click()
        timing = searched.value.headers.get("server-timing", "")
        page.wait_for_function(_THUMBS_DONE, polling="raf")
        tap_to_results_ms = page.evaluate("performance.now() - window.__tapped")
        photos = page.locator("#gallery img").count()
    finally:
        context.close()
    return {
        "page_bytes": sum(int(e["transfer"]) for e in weight),
        "page_body_bytes": sum(int(e["body"]) for e in weight),
        "page_files": {e["name"]: e["transfer"] for e in weight},
        "consent_shown_s": round(consent_s, 3),
        "tap_to_results_s": round(tap_to_results_ms / 1000, 3),
        "server_ms": server_timing(timing),
        "photos": photos,
    }


def _summary(visits: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "runs": len(visits),
        "page_bytes": visits[0]["page_bytes"],
        "page_body_bytes": visits[0]["page_body_bytes"],
        "page_files": visits[0]["page_files"],
        "consent_shown_s_median": round(statistics.median(v["consent_shown_s"] for v in visits), 3),
        "tap_to_results_s_median": round(
            statistics.median(v["tap_to_results_s"] for v in visits), 3
        ),
        "tap_to_results_s_all": [v["tap_to_results_s"] for v in visits],
        "server_total_ms_median": statistics.median(
            v["server_ms"].get("total", 0.0) for v in visits
        ),
        "server_embed_ms_median": statistics.median(
            v["server_ms"].get("embed", 0.0) for v in visits
        ),
        "photos_found": visits[0]["photos"],
    }


def command(runs: int) -> None:
    """Print the page weight and tap-to-results times (local, Fast 3G) as JSON."""
    from playwright.sync_api import sync_playwright

    from facepass.demo_photos import astronaut_selfie
    from facepass.embedded import embedded_settings
    from facepass.pixora.demo import DEMO_SESSION_ID

    if not CHROMIUM.exists():
        raise SystemExit("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    logging.getLogger("facepass").setLevel(logging.WARNING)
    base = get_settings().model_copy(update={"database_url": None, "main_app_database_url": None})
    results: dict[str, Any] = {"viewport": "390x844 mobile", "network_3g": FAST_3G}
    with tempfile.TemporaryDirectory(prefix="facepass-bench-page-") as tmp:
        settings, postgres = embedded_settings(base, Path(tmp))
        settings = settings.model_copy(
            update={
                "search_rate_limit": "100000/minute",
                "search_device_rate_limit": "100000/minute",
                "redis_url": None,
                # One selfie, as the earlier figures measured: a live pair adds a second
                # capture at the guest's own pace, which no tap-to-results figure can time.
                "selfie_policy_default": "live_or_gallery",
            }
        )
        results["selfie_policy"] = settings.selfie_policy_default
        camera = Path(tmp) / "selfie.y4m"
        write_y4m(camera, astronaut_selfie((640, 480)))
        try:
            with live_server(settings) as base_url:
                assert settings.admin_token is not None
                results["photos_indexed"], cover = _upload_demo_photos(
                    base_url, str(DEMO_SESSION_ID), settings.admin_token
                )
                url = f"{base_url}/s/{DEMO_SESSION_ID}"
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=str(CHROMIUM),
                        args=[
                            "--no-sandbox",
                            "--use-fake-ui-for-media-stream",
                            "--use-fake-device-for-media-stream",
                            f"--use-file-for-fake-video-capture={camera}",
                        ],
                    )
                    _one_visit(browser, url, None)  # warm-up: engine, caches
                    for name, network in (("local", None), ("fast_3g", FAST_3G)):
                        visits = [_one_visit(browser, url, network) for _ in range(runs)]
                        results[name] = _summary(visits)
                    results["with_cover"] = _weight_with_cover(
                        browser, url, base_url, settings.admin_token, cover
                    )
                    browser.close()
        finally:
            postgres.stop()
    print(json.dumps(results, indent=2))
