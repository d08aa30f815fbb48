"""`facepass bench studio`: a studio's path in the console, from an empty session to a poster.

An embedded FacePass (its demo session, empty), a studio key of the demo studio, headless
Chromium at a laptop's viewport (1280 x 900). The run does what a studio does, step by step,
and counts its clicks (a typed field is not a click; choosing a folder is two: the button and
the system dialog's confirmation):

1. sign in with the key; 2. open the event; 3. upload a folder of N photos (each a different
JPEG of a face, about 800 x 600, ~60 KB, made from scikit-image's astronaut); 4. wait until
every photo is indexed (nothing to click); 5. wait for the people (the background grouping)
and set the event page: name, a cover, save; 6. choose A4 and print the poster (window.print
counted, not shown).

Each step's seconds are measured in the browser's driver. The figures for another count are
an extrapolation from the measured rates (upload MB/s, indexing photos/s); the JSON says which
figure is measured and which extrapolated. The photos and the studio's data live in a
temporary directory, removed at the end.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from facepass.config import get_settings
from facepass.lab.liveserver import live_server

CHROMIUM = Path("/usr/bin/chromium")
COUNT_PRINTS = (
    "window.print = function () {"
    " var t = window.top || window; t.__prints = (t.__prints || 0) + 1; };"
)


def make_photos(folder: Path, count: int, seed: int = 0) -> int:
    """`count` different JPEGs of one face (crops, scales, mirror, light); returns bytes."""
    from facepass.demo_photos import astronaut

    rng = np.random.default_rng(seed)
    portrait = astronaut()
    total = 0
    for index in range(count):
        left, top = int(rng.integers(0, 60)), int(rng.integers(0, 40))
        image = portrait.crop((left, top, left + 440, top + 460))
        if rng.random() < 0.5:
            image = ImageOps.mirror(image)
        image = ImageEnhance.Brightness(image).enhance(float(rng.uniform(0.7, 1.2)))
        canvas = Image.new("RGB", (800, 600), tuple(int(v) for v in rng.integers(0, 255, 3)))
        side = int(rng.integers(380, 560))
        canvas.paste(image.resize((side * 440 // 460, side)), (int(rng.integers(0, 300)), 20))
        buffer = io.BytesIO()
        canvas.save(buffer, "JPEG", quality=85)
        (folder / f"IMG_{index:04d}.jpg").write_bytes(buffer.getvalue())
        total += buffer.tell()
    return total


def _studio_key(settings: Any, studio_id: str) -> str:
    from facepass.access.keys import create_key
    from facepass.db import OwnDatabase

    own = OwnDatabase(settings.database_url, pool_size=1)
    try:
        with own.session() as db:
            _, key = create_key(db, settings, uuid.UUID(studio_id), "upload", "bench studio")
    finally:
        own.dispose()
    return key


def _walk(page: Any, key: str, session_name: str, folder: Path) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []

    def step(name: str, clicks: int, started: float, **extra: Any) -> None:
        steps.append(
            {"step": name, "clicks": clicks, "seconds": round(time.perf_counter() - started, 2)}
            | extra
        )

    started = time.perf_counter()
    page.locator("#token").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#events-list tr").first.wait_for()
    step("sign in", 1, started)

    started = time.perf_counter()
    page.get_by_role("link", name=session_name).click()
    page.locator("#tab-photos").wait_for()
    step("open the event", 1, started)

    started = time.perf_counter()
    page.set_input_files("#pick-folder", str(folder))
    page.wait_for_function(
        "() => document.getElementById('upload-text').textContent.startsWith('Done:')",
        timeout=0,
    )
    step("upload the folder", 2, started, result=page.locator("#upload-text").inner_text())

    started = time.perf_counter()
    page.wait_for_selector("#indexing[data-complete=true]", timeout=0)
    step("indexing (watched)", 0, started, result=page.locator("#index-text").inner_text())

    started = time.perf_counter()
    page.locator("[data-tab=page]").click()
    if not _wait_for_people(page):
        raise RuntimeError("the session's people never appeared")
    page.locator("#b-name").fill("Выпускной 11Б")
    page.locator("#covers .cover-pick").first.click()
    page.get_by_role("button", name="Save").click()
    page.wait_for_function(
        "() => document.getElementById('branding-state').textContent === 'Saved.'"
    )
    step("event page: name, cover, save", 3, started)

    started = time.perf_counter()
    page.frame_locator("#poster").locator("svg").first.wait_for()
    page.select_option("#poster-size", "a4")
    page.get_by_role("button", name="Print poster").click()
    page.wait_for_function("() => window.__prints === 1")
    step("poster: size, print", 2, started)
    return steps


def _wait_for_people(page: Any) -> bool:
    """The cover chooser lists the people's photos: reopen the tab until the grouping ran."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if page.locator("#covers .cover-pick").count():
            return True
        page.wait_for_timeout(2000)
        page.locator("[data-tab=guests]").click()
        page.locator("[data-tab=page]").click()
        page.wait_for_timeout(1000)
    return False


def command(photos: int, target: int) -> None:
    """Print each step's clicks and seconds for `photos` photos, extrapolated to `target`."""
    from playwright.sync_api import sync_playwright

    from facepass.embedded import embedded_settings
    from facepass.pixora.demo import DEMO_SESSION_ID, DEMO_STUDIO_ID

    if not CHROMIUM.exists():
        raise SystemExit("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    logging.getLogger("facepass").setLevel(logging.WARNING)
    base = get_settings().model_copy(update={"database_url": None, "main_app_database_url": None})
    with tempfile.TemporaryDirectory(prefix="facepass-bench-studio-") as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        photo_bytes = make_photos(folder, photos)
        settings, postgres = embedded_settings(base, Path(tmp) / "data")
        settings = settings.model_copy(
            update={"redis_url": None, "public_base_url": "https://photos.example.com"}
        )
        try:
            with live_server(settings) as base_url:
                key = _studio_key(settings, DEMO_STUDIO_ID)
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=str(CHROMIUM), args=["--no-sandbox"]
                    )
                    context = browser.new_context(
                        base_url=base_url, viewport={"width": 1280, "height": 900}, locale="en-US"
                    )
                    context.add_init_script(COUNT_PRINTS)
                    context.set_default_timeout(120_000)
                    page = context.new_page()
                    page.on("dialog", lambda dialog: dialog.accept())
                    page.goto("/studio?lang=en")
                    name = page.evaluate(
                        "async (id) => (await (await fetch('/api/v1/sessions/validate/' + id))"
                        ".json()).session.name",
                        DEMO_SESSION_ID,
                    )
                    steps = _walk(page, key, name, folder)
                    browser.close()
        finally:
            postgres.stop()
    by_name = {s["step"]: s for s in steps}
    upload_s = by_name["upload the folder"]["seconds"]
    index_s = by_name["indexing (watched)"]["seconds"]
    # Indexing runs while the upload goes on: its rate counts from the upload's start.
    index_rate = photos / (upload_s + index_s)
    upload_rate = photo_bytes / upload_s
    scale = target / photos
    fixed = sum(s["seconds"] for s in steps) - upload_s - index_s
    extrapolated_upload = upload_s * scale
    extrapolated_done = max(extrapolated_upload, target / index_rate)
    print(
        json.dumps(
            {
                "measured": {
                    "photos": photos,
                    "photo_bytes": photo_bytes,
                    "steps": steps,
                    "clicks": sum(s["clicks"] for s in steps),
                    "total_s": round(sum(s["seconds"] for s in steps), 1),
                    "upload_mb_per_s": round(upload_rate / 1e6, 2),
                    "indexing_photos_per_s": round(index_rate, 2),
                },
                "extrapolated": {
                    "photos": target,
                    "how": "upload time x photos; indexing end at the measured photos/s from "
                    "the upload's start; the other steps as measured",
                    "upload_s": round(extrapolated_upload, 1),
                    "photos_in_and_indexed_s": round(extrapolated_done, 1),
                    "total_s": round(extrapolated_done + fixed, 1),
                    "clicks": sum(s["clicks"] for s in steps),
                },
                "load_average": [round(v, 2) for v in os.getloadavg()],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
