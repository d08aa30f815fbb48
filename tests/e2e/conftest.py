"""A live FacePass (uvicorn in a thread, real databases, in-process indexing) and a real
headless Chromium whose camera is a video file of a real face.

Photos reach the server exactly as a studio's do: uploaded over HTTP with the admin token,
indexed by the in-process worker. Screenshots of each state go to test-artifacts/e2e/.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from facepass.config import Settings
from facepass.demo_photos import DemoPhoto, astronaut_selfie, demo_photo_set
from facepass.lab.camera import write_y4m
from facepass.lab.liveserver import live_server as serving  # the real app in a thread
from tests.conftest import ADMIN_TOKEN, REPO_ROOT
from tests.search.conftest import create_pixora_session, search_settings

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"


@dataclass
class Mailbox:
    """A real SMTP server on this machine (aiosmtpd): what FacePass sent, as received."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        message = BytesParser(policy=default).parsebytes(envelope.content)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture(scope="package")
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox(port)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box
    controller.stop()


@dataclass
class LiveServer:
    base_url: str
    settings: Settings
    session_id: uuid.UUID
    disabled_session_id: uuid.UUID
    photo_names: dict[uuid.UUID, str] = field(default_factory=dict)
    astronaut_photos: set[uuid.UUID] = field(default_factory=set)


def _upload_and_wait(
    base_url: str, session_id: uuid.UUID, photos: list[DemoPhoto]
) -> dict[str, uuid.UUID]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    files = [("files", (p.filename, p.data, "image/jpeg")) for p in photos]
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        answer = client.post(f"/api/v1/sessions/{session_id}/photos", files=files)
        answer.raise_for_status()
        ids = {f["filename"]: uuid.UUID(f["photo_id"]) for f in answer.json()["files"]}
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status = client.get(f"/api/v1/sessions/{session_id}/index-status").json()
            if status["complete"]:
                break
            time.sleep(0.5)
        assert status["complete"], status
        assert status["photos"]["indexed"] == status["photos"]["total"] >= len(photos), status
    return ids


# One per test module, on the module's own database (its in-process workers and reconciler
# index that database's pending photos only).
@pytest.fixture(scope="module")
def live_server(
    own_db_url: str,
    pixora_url: str,
    pixora_admin_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    mailbox: Mailbox,
) -> Iterator[LiveServer]:
    settings = search_settings(
        own_db_url,
        pixora_url,
        tmp_path_factory.mktemp("e2e-data"),
        search_rate_limit="1000/minute",
        search_device_rate_limit="1000/minute",
        smtp_url=f"smtp://127.0.0.1:{mailbox.port}",
        smtp_from="Studio Photos <photos@studio.test>",
        email_address_rate_limit="1/hour",
    )
    with serving(settings) as base_url:
        session_id = create_pixora_session(pixora_admin_url, name="Свадьба Анны и Ивана")
        photos = demo_photo_set()
        ids = _upload_and_wait(base_url, session_id, photos)
        yield LiveServer(
            base_url=base_url,
            settings=settings,
            session_id=session_id,
            disabled_session_id=create_pixora_session(pixora_admin_url, enabled=False),
            photo_names={photo_id: name for name, photo_id in ids.items()},
            astronaut_photos={ids[p.filename] for p in photos if p.shows_astronaut},
        )


@dataclass
class FakeCamera:
    """Chromium's fake camera reads this file each time a page starts the camera: `show`
    puts another face in front of it (e.g. turned, for the second angle)."""

    path: Path

    def show(self, image: Image.Image) -> None:
        partial = self.path.with_suffix(".part")
        write_y4m(partial, image)
        partial.replace(self.path)

    def reset(self) -> None:
        self.show(astronaut_selfie((640, 480)))


@pytest.fixture(scope="session")
def fake_camera(tmp_path_factory: pytest.TempPathFactory) -> FakeCamera:
    camera = FakeCamera(tmp_path_factory.mktemp("camera") / "astronaut.y4m")
    camera.reset()
    return camera


# Package scope: Playwright's sync API keeps an event loop on the main thread while it runs, so
# it must be gone before other packages' tests call asyncio.run (tests/http does).
@pytest.fixture(scope="package")
def browser(fake_camera: FakeCamera) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={fake_camera.path}",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, live_server: LiveServer):  # type: ignore[no-untyped-def]
    """Opens fresh phone-sized pages in a given locale; fails the test on any JavaScript error."""
    contexts = []
    errors: list[str] = []

    def _open(  # type: ignore[no-untyped-def]
        path: str,
        locale: str = "en-US",
        base_url: str | None = None,
        init_script: str | None = None,
        desktop: bool = False,
    ):
        size = {"width": 1280, "height": 900} if desktop else {"width": 390, "height": 844}
        context = browser.new_context(
            base_url=base_url or live_server.base_url,
            locale=locale,
            viewport=size,
            is_mobile=not desktop,
            has_touch=not desktop,
            accept_downloads=True,
        )
        context.set_default_timeout(30_000)
        if init_script:
            context.add_init_script(init_script)
        contexts.append(context)
        tab = context.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(path)
        return tab

    yield _open
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def agree(page) -> None:  # type: ignore[no-untyped-def]
    """Through the consent screen (a fresh browser always starts there)."""
    page.locator("#consent").wait_for()
    page.locator("#consent-agree").click()
    page.locator("#intro").wait_for()


def screenshot(page, name: str, *, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


@pytest.fixture(scope="package")
def camera_person():  # type: ignore[no-untyped-def]
    """A real person (CFP 201-300) whose photos, as webcam frames, make live pairs each way."""
    from tests.e2e.live_camera import find_camera_person

    return find_camera_person()
