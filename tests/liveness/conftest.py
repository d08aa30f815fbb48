"""A live server with the product's default policy (`live`), a session of the astronaut's
photos, and where the evaluation data is present, a session of one CFP person whose frontal
and turned photos make a live pair."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from PIL import Image

from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.demo_photos import astronaut_selfie, demo_photo_set
from facepass.engine.antispoof import get_antispoof
from facepass.guest.challenge import Direction
from facepass.lab.camera import turned_selfie
from facepass.lab.liveserver import live_server
from facepass.search.live_pair import LiveParams, analyze_frame, judge_pair
from facepass.search.query import SelfieRejected
from tests.conftest import ADMIN_TOKEN, SHARED_DATA
from tests.search.conftest import add_indexed_photo, create_pixora_session, jpeg, search_settings

SAMPLES = SHARED_DATA.parent / "models" / "minifasnet" / "samples"
CFP_TEST_IDS = range(201, 301)  # the held-out split: nothing was tuned on these people
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class CfpPair:
    """One person's frontal photo and, per direction, a photo of them turned that way; their
    other photos are the session's."""

    frontal: bytes
    turned: dict[Direction, bytes]
    session_id: uuid.UUID
    photos: set[uuid.UUID] = field(default_factory=set)
    person: int = 0  # the CFP person


@dataclass
class LiveWorld:
    base_url: str
    settings: Settings
    session_id: uuid.UUID  # the astronaut's photos
    disabled_session_id: uuid.UUID
    pixora_admin_url: str
    astronaut_photos: set[uuid.UUID]
    cfp: CfpPair | None
    context: AppContext  # open while the package's tests run: index more photos with it


def _find_cfp_pair(context: AppContext, pixora_admin_url: str) -> CfpPair | None:
    """The first person of CFP 201-300 whose frontal/01 and a profile photo the rule accepts
    (the turned photo decides the direction), with frontal/02-05 indexed in a session."""
    root = SHARED_DATA / "cfp" / "Images"
    if not root.is_dir():
        return None
    engine = context.engines.get()
    antispoof = get_antispoof(engine.config)
    params = LiveParams.for_model(antispoof)
    for person in CFP_TEST_IDS:
        folder = root / f"{person:03d}"
        frontal = (folder / "frontal" / "01.jpg").read_bytes()
        try:
            first = analyze_frame(engine, antispoof, frontal, 0, allow_turned=False)
        except SelfieRejected:
            continue
        turned: dict[Direction, bytes] = {}
        for path in sorted((folder / "profile").glob("*.jpg")):
            try:
                second = analyze_frame(engine, antispoof, path.read_bytes(), 1, allow_turned=True)
            except SelfieRejected:
                continue
            direction = Direction.LEFT if second.yaw > first.yaw else Direction.RIGHT
            verdict = judge_pair(first, second, direction, params, engine.match_threshold)
            if verdict.live:
                turned.setdefault(direction, path.read_bytes())
        if not turned:
            continue
        pair = CfpPair(frontal, turned, create_pixora_session(pixora_admin_url), person=person)
        for number in range(2, 6):
            data = (folder / "frontal" / f"{number:02d}.jpg").read_bytes()
            pair.photos.add(add_indexed_photo(context, pair.session_id, data, f"{number}.jpg"))
        return pair
    return None


@pytest.fixture(scope="package")
def world(
    package_db_url: str,
    pixora_url: str,
    pixora_admin_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveWorld]:
    settings = search_settings(
        package_db_url,
        pixora_url,
        tmp_path_factory.mktemp("live-data"),
        search_rate_limit="1000/minute",
        search_device_rate_limit="1000/minute",
        opt_out_rate_limit="1000/hour",  # the opt-out's own limits have a test of their own
        opt_out_device_rate_limit="1000/hour",
        selfie_policy_default="live",  # the product's default
    )
    context = AppContext.build(settings)
    try:
        session_id = create_pixora_session(pixora_admin_url)
        photos = {
            add_indexed_photo(context, session_id, photo.data, photo.filename)
            for photo in demo_photo_set()[:3]
            if photo.shows_astronaut
        }
        cfp = _find_cfp_pair(context, pixora_admin_url)
        with live_server(settings, run_migrations=False, start_background=False) as base_url:
            yield LiveWorld(
                base_url,
                settings,
                session_id,
                create_pixora_session(pixora_admin_url, enabled=False),
                pixora_admin_url,
                photos,
                cfp,
                context,
            )
    finally:
        context.close()


@pytest.fixture
def client(world: LiveWorld) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world.base_url, timeout=60) as http:
        yield http


def challenge(client: httpx.Client, session_id: uuid.UUID) -> dict[str, object]:
    response = client.post(f"/api/v1/sessions/{session_id}/challenge")
    assert response.status_code == 200, response.text
    return dict(response.json())


def challenge_towards(
    client: httpx.Client, session_id: uuid.UUID, direction: Direction
) -> dict[str, object]:
    """Challenges until one asks for `direction` (each is a fair coin: 40 tries never all miss
    in practice); the others are left to expire, as a guest's abandoned ones do."""
    for _ in range(40):
        issued = challenge(client, session_id)
        if issued["direction"] == direction.value:
            return issued
    raise AssertionError(f"40 challenges and none asked for {direction}")


def pair_form(
    front: bytes, turned: bytes, challenge_id: object
) -> tuple[list[tuple[str, tuple[str, bytes, str]]], dict[str, str]]:
    files = [
        ("selfie", ("front.jpg", front, "image/jpeg")),
        ("selfie", ("turned.jpg", turned, "image/jpeg")),
    ]
    return files, {"challenge_id": str(challenge_id)}


def sample(name: str) -> bytes:
    path = SAMPLES / f"image_{name}.jpg"
    if not path.exists():
        pytest.skip(f"MiniFASNet's sample photos not found at {SAMPLES}")
    return path.read_bytes()


def astronaut_front() -> bytes:
    return jpeg(astronaut_selfie())


def astronaut_turned_left() -> bytes:
    """The fake camera's turned frame of tests/e2e (her head turned to her left: yaw ~ +11)."""
    return jpeg(turned_selfie())


def as_camera_frame(data: bytes, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photo as a webcam frame: cropped to the frame's shape about its centre, resized."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    ratio = size[0] / size[1]
    if image.width / image.height > ratio:
        width = round(image.height * ratio)
        image = image.crop(
            ((image.width - width) // 2, 0, (image.width + width) // 2, image.height)
        )
    else:
        height = round(image.width / ratio)
        top = (image.height - height) // 2
        image = image.crop((0, top, image.width, top + height))
    return image.resize(size, Image.Resampling.LANCZOS)
