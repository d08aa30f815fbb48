"""The studio console in a real Chromium, signed in with a studio key: a folder of photos in
(one of them corrupt), indexing watched to the end, people split and merged, branding set with
the preview following, the poster printed; another studio's session neither shown nor served."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text

from facepass.access.keys import create_key
from facepass.db import OwnDatabase, sqlalchemy_url
from facepass.demo_photos import demo_photo_set
from tests.e2e.conftest import LiveServer, screenshot

pytestmark = pytest.mark.browser

# window.print is the browser's dialog: counted instead (in every frame, the poster's too).
COUNT_PRINTS = """
window.print = function () {
  var top = window.top || window;
  top.__prints = (top.__prints || 0) + 1;
};
"""


def _pixora_session(pixora_admin_url: str, studio_id: uuid.UUID, name: str) -> uuid.UUID:
    session_id = uuid.uuid4()
    engine = create_engine(sqlalchemy_url(pixora_admin_url), poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO photo_sessions (id, name, photographer_id, studio_id,"
                " facepass_enabled) VALUES (:id, :name, gen_random_uuid(), :studio, true)"
            ),
            {"id": session_id, "name": name, "studio": studio_id},
        )
    engine.dispose()
    return session_id


def _studio_key(live_server: LiveServer, studio_id: uuid.UUID) -> str:
    assert live_server.settings.database_url is not None
    own = OwnDatabase(live_server.settings.database_url, pool_size=1)
    try:
        with own.session() as db:
            _, key = create_key(db, live_server.settings, studio_id, "delete", "console e2e")
    finally:
        own.dispose()
    return key


def _folder(tmp_path: Path) -> Path:
    """A studio's folder: the demo photos, one in a sub-folder, a corrupt photo, a text file."""
    folder = tmp_path / "wedding"
    (folder / "ceremony").mkdir(parents=True)
    for index, photo in enumerate(demo_photo_set()):
        target = folder / "ceremony" if index == 0 else folder
        (target / photo.filename).write_bytes(photo.data)
    good = next(iter(demo_photo_set())).data
    (folder / "broken.jpg").write_bytes(good[:600])  # a JPEG's start, cut off: undecodable
    (folder / "notes.txt").write_text("shot list\n")  # not a photo: refused at upload
    return folder


def _people_cards(page, minimum: int) -> int:  # type: ignore[no-untyped-def]
    """Reopen the People tab until the background grouping has made `minimum` people."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page.locator("[data-tab=photos]").click()
        page.locator("[data-tab=people]").click()
        page.wait_for_function(
            "() => !document.getElementById('people-empty').hidden"
            " || document.querySelectorAll('#people-grid li').length > 0"
        )
        count = page.locator("#people-grid li").count()
        if count >= minimum:
            return count
        page.wait_for_timeout(1000)
    raise AssertionError("the session's people never appeared")


def test_a_studio_runs_its_event_from_the_console(  # type: ignore[no-untyped-def]
    open_page, live_server: LiveServer, pixora_admin_url: str, tmp_path: Path
) -> None:
    studio, stranger = uuid.uuid4(), uuid.uuid4()
    session_id = _pixora_session(pixora_admin_url, studio, "Свадьба Маши и Пети")
    foreign = _pixora_session(pixora_admin_url, stranger, "Чужая съёмка")
    key = _studio_key(live_server, studio)
    folder = _folder(tmp_path)
    dialogs: list[str] = []

    page = open_page("/studio?lang=en", desktop=True, init_script=COUNT_PRINTS)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))

    # Sign in: the key stays in this tab's sessionStorage, nowhere else.
    page.locator("#token").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#events-list tr").first.wait_for()
    rows = page.locator("#events-list").inner_text()
    assert "Свадьба Маши и Пети" in rows
    assert "Чужая съёмка" not in rows
    assert page.evaluate("() => sessionStorage.getItem('facepass:studio:token')") == key
    assert page.evaluate("() => localStorage.getItem('facepass:studio:token')") is None
    screenshot(page, "40-studio-events")

    # Photos in: a folder with a sub-folder and a corrupt file; indexing watched to the end.
    page.get_by_role("link", name="Свадьба Маши и Пети").click()
    page.locator("#tab-photos").wait_for()
    page.set_input_files("#pick-folder", str(folder))
    page.wait_for_function(
        "() => document.getElementById('upload-text').textContent.startsWith('Done:')"
    )
    assert page.locator("#upload-text").inner_text() == (
        "Done: 11 uploaded, 0 skipped (already there), 1 failed."
    )
    rejected = page.locator("#upload-failure-list")
    assert rejected.inner_text().startswith("wedding/notes.txt — Not a photo")
    page.get_by_role("button", name="Retry").click()  # still not a photo: listed again
    page.wait_for_function(
        "() => document.getElementById('upload-text').textContent"
        " === 'Done: 0 uploaded, 0 skipped (already there), 1 failed.'"
    )
    assert "notes.txt" in rejected.inner_text()
    page.wait_for_selector("#indexing[data-complete=true]", timeout=240_000)
    assert page.locator("#index-text").inner_text().startswith("All photos indexed: 10 of 11")
    failures = page.locator("#index-failure-list")
    failures.locator("li").first.wait_for()
    assert "broken.jpg" in failures.inner_text()
    assert "damaged" in failures.inner_text() or "CORRUPT" in failures.inner_text()
    screenshot(page, "41-studio-indexed")

    # The same folder again: every file is skipped by its SHA-256 before sending.
    page.set_input_files("#pick-folder", str(folder))
    page.wait_for_function(
        "() => document.getElementById('upload-text').textContent.startsWith('Done:')"
    )
    assert page.locator("#upload-text").inner_text() == (
        "Done: 0 uploaded, 11 skipped (already there), 1 failed."
    )

    # People: split one face out of the astronaut, then merge the two back.
    people = _people_cards(page, 1)
    page.locator("#people-grid li .person-open").first.click()
    page.locator("#person-faces li").nth(1).wait_for()
    faces = page.locator("#person-faces li").count()
    assert faces >= 2
    assert page.locator("#person-faces .mark").count() == faces  # each face marked on its photo
    page.locator("#person-faces input[type=checkbox]").last.check()
    page.get_by_role("button", name="Split selected faces out").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('#person-faces li').length === {faces - 1}"
    )
    page.locator("#person-back").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('#people-grid li').length === {people + 1}"
    )
    screenshot(page, "42-studio-people-split")
    boxes = page.locator("#people-grid li input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(people).check()  # the new person is the smallest: last
    page.get_by_role("button", name="Merge selected").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('#people-grid li').length === {people}"
    )
    assert dialogs
    assert dialogs[-1].startswith("Merge 2 people into one?")

    # Event page: the preview follows the draft, then the branding is saved.
    page.locator("[data-tab=page]").click()
    preview = page.frame_locator("#preview")
    preview.locator("#event-name").wait_for()
    assert preview.locator("#event-name").inner_text() == "Свадьба Маши и Пети"
    page.locator("#b-name").fill("Маша и Петя · 12 июля")
    page.locator("#b-studio").fill("Studio Light")
    page.wait_for_function(
        "() => { var d = document.getElementById('preview').contentDocument;"
        " var h = d && d.getElementById('event-name');"
        " return h && h.textContent === 'Маша и Петя · 12 июля'; }"
    )
    page.wait_for_function(
        "() => { var d = document.getElementById('preview').contentDocument;"
        " var m = d && d.querySelector('.event-meta');"
        " return m && m.textContent.indexOf('Studio Light') >= 0; }"
    )
    page.locator("#covers .cover-pick").first.click()
    preview.locator("#cover").wait_for()
    page.get_by_role("button", name="Save").click()
    page.wait_for_function(
        "() => document.getElementById('branding-state').textContent === 'Saved.'"
    )
    saved = page.evaluate(
        """async (id) => {
            const bearer = 'Bearer ' + sessionStorage.getItem('facepass:studio:token');
            const r = await fetch('/api/v1/sessions/' + id + '/branding',
              {headers: {Authorization: bearer}});
            return r.json();
        }""",
        str(session_id),
    )
    assert saved["event_name"] == "Маша и Петя · 12 июля"
    assert saved["cover_photo_id"] is not None

    # The live server answers on 127.0.0.1: its URL would lead guests' phones nowhere.
    warning = page.locator("#share-warning")
    assert warning.is_visible()
    assert "loopback" in warning.inner_text()
    assert page.locator("#print").is_disabled()
    screenshot(page, "43-studio-page-not-public")

    # With a public address configured, the poster renders and prints.
    live_server.settings.public_base_url = "https://photos.example.com"
    try:
        page.reload()
        page.locator("#tab-page").wait_for()
        poster = page.frame_locator("#poster")
        poster.locator("svg").first.wait_for()
        assert "Маша и Петя · 12 июля" in poster.locator("body").inner_text()
        assert page.locator("#guest-url").inner_text() == (
            f"https://photos.example.com/s/{session_id}"
        )
        page.select_option("#poster-size", "a5")
        page.get_by_role("button", name="Print poster").click()
        page.wait_for_function("() => window.__prints === 1")
        screenshot(page, "44-studio-poster")
    finally:
        live_server.settings.public_base_url = None

    # Remove the person from search (after a confirmation), then restore it under Guests.
    page.locator("[data-tab=people]").click()
    page.locator("#people-grid li .person-open").first.click()
    page.locator("#person-faces li").first.wait_for()
    page.get_by_role("button", name="Remove person from search").click()
    page.locator("#people-list").wait_for()  # back to the list once the removal is done
    assert dialogs[-1].startswith("Remove this person from search?")
    page.locator("[data-tab=guests]").click()
    page.locator("#usage-list tr").first.wait_for()
    removal = page.locator("#removals-list li").first
    removal.wait_for()
    assert removal.inner_text().startswith("Removed by the studio")
    removal.get_by_role("button", name="Restore to search").click()
    page.wait_for_function(
        "() => document.querySelector('#removals-list li').textContent.indexOf('restored') > 0"
    )
    screenshot(page, "45-studio-guests")

    # Another studio's session: not listed, not opened, refused by the API.
    page.evaluate(f"() => {{ location.hash = '#/event/{foreign}/photos'; }}")
    page.wait_for_function("() => document.body.getAttribute('data-screen') === 'events'")
    assert "Чужая съёмка" not in page.locator("#events-list").inner_text()
    refused = page.evaluate(
        """async (id) => {
            const bearer = 'Bearer ' + sessionStorage.getItem('facepass:studio:token');
            const r = await fetch('/api/v1/sessions/' + id + '/photos',
              {headers: {Authorization: bearer}});
            return [r.status, (await r.json()).error.code];
        }""",
        str(foreign),
    )
    assert refused == [403, "FORBIDDEN_STUDIO"]
