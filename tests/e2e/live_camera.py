"""A real person for the fake camera's live pairs: CFP 201-300's first person whose frontal
photo and a turned photo each way, as webcam frames, make a live pair with a margin; and the
page's live guided selfie driven with them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from facepass.demo_photos import DemoPhoto
from facepass.engine import get_engine
from facepass.engine.antispoof import get_antispoof
from facepass.guest.challenge import Direction
from facepass.search.live_pair import LiveParams, analyze_frame, judge_pair
from facepass.search.query import SelfieRejected
from tests.conftest import SHARED_DATA
from tests.e2e.conftest import FakeCamera, LiveServer, _upload_and_wait
from tests.liveness.conftest import as_camera_frame
from tests.search.conftest import create_pixora_session, jpeg


@dataclass
class CameraPerson:
    number: int
    frontal: Image.Image  # as a webcam frame
    turned: dict[Direction, Image.Image]

    def session(self, live_server: LiveServer, pixora_admin_url: str) -> tuple[uuid.UUID, set]:  # type: ignore[type-arg]
        """A new session of their frontal photos 02-05 (indexed): (session id, photo ids)."""
        folder = SHARED_DATA / "cfp" / "Images" / f"{self.number:03d}" / "frontal"
        session_id = create_pixora_session(pixora_admin_url, name=f"CFP {self.number}")
        photos = [
            DemoPhoto(f"{n:02d}.jpg", (folder / f"{n:02d}.jpg").read_bytes(), True)
            for n in range(2, 6)
        ]
        ids = _upload_and_wait(live_server.base_url, session_id, photos)
        return session_id, set(ids.values())

    def frontal_jpeg(self) -> bytes:
        return jpeg(self.frontal)


def find_camera_person() -> CameraPerson:
    root = SHARED_DATA / "cfp" / "Images"
    if not root.is_dir():
        pytest.skip("needs CFP (../shared/data/cfp): a real person's frontal and turned photos")
    engine = get_engine()
    antispoof = get_antispoof(engine.config)
    params = LiveParams.for_model(antispoof)
    margin = max(params.live_threshold + 0.1, 0.2)  # the browser's JPEG must not tip it

    def frame(image: Image.Image, index: int):  # type: ignore[no-untyped-def]
        return analyze_frame(engine, antispoof, jpeg(image), index, allow_turned=index > 0)

    for person in range(201, 301):
        folder = root / f"{person:03d}"
        front_image = as_camera_frame((folder / "frontal" / "01.jpg").read_bytes())
        try:
            first = frame(front_image, 0)
        except SelfieRejected:
            continue
        if first.live_score < margin:
            continue
        turned: dict[Direction, Image.Image] = {}
        for path in sorted((folder / "profile").glob("*.jpg")):
            image = as_camera_frame(path.read_bytes())
            try:
                second = frame(image, 1)
            except SelfieRejected:
                continue
            direction = Direction.LEFT if second.yaw > first.yaw else Direction.RIGHT
            verdict = judge_pair(first, second, direction, params, engine.match_threshold)
            if verdict.live and second.live_score >= margin and verdict.turn_deg >= 20:
                turned.setdefault(direction, image)
        if len(turned) == 2:
            return CameraPerson(person, front_image, turned)
    pytest.skip("no person of CFP 201-300 makes a live pair each way as webcam frames")


def take_live_pair(
    page: Any, fake_camera: FakeCamera, person: CameraPerson, start: str = "Take a selfie"
) -> dict[str, Any]:
    """Press `start` ("Take a selfie" on the intro): the challenge, the frontal frame, then the
    turn it asks for; returns the challenge (the page is left on the review with both selfies)."""
    fake_camera.show(person.frontal)
    with page.expect_response(re.compile(r"/challenge$")) as issued:
        page.get_by_role("button", name=start).click()
    challenge: dict[str, Any] = issued.value.json()
    direction = Direction(challenge["direction"])
    page.locator("#camera").wait_for()
    page.wait_for_function("() => !document.getElementById('capture').disabled")
    page.get_by_role("button", name="Capture").click()
    page.locator("#review").wait_for()
    fake_camera.show(person.turned[direction])
    page.get_by_role("button", name=f"Turn a little to the {direction.value}").click()
    page.locator("#camera").wait_for()
    page.wait_for_function("() => !document.getElementById('capture').disabled")
    page.get_by_role("button", name="Capture").click()
    page.locator("#review").wait_for()
    page.wait_for_function("() => document.querySelectorAll('#selfies img').length === 2")
    return challenge
