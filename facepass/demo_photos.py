"""The demo session's photos: one person in several shots among photos without her.

Made at start-up from scikit-image's public-domain sample images: NASA's portrait of the
astronaut Eileen Collins (`skimage.data.astronaut()`), varied by crop, size, light, colour and
mirroring, among a cup of coffee, a cat and a rocket. They are added once, through the same
upload path as a studio's photos (idempotent by content hash), so a first search can be tried
at once with the page's upload button and a photo of the astronaut.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from PIL import Image, ImageEnhance, ImageOps

if TYPE_CHECKING:
    from facepass.config import Settings
    from facepass.db import OwnDatabase
    from facepass.indexing.queue import IndexQueue
    from facepass.photos.storage import PhotoStorage

logger = logging.getLogger(__name__)

JPEG_QUALITY = 90


@dataclass(frozen=True, slots=True)
class DemoPhoto:
    """One generated photo and whether the astronaut is in it."""

    filename: str
    data: bytes
    shows_astronaut: bool


def _skimage(name: str) -> Image.Image:
    from skimage import data

    return Image.fromarray(getattr(data, name)()).convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def astronaut() -> Image.Image:
    """The astronaut portrait (512 x 512 RGB)."""
    return _skimage("astronaut")


def astronaut_selfie(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A selfie-like frame of the astronaut: her face large and central, mirrored like a
    front camera, on a landscape frame (what a webcam would give)."""
    portrait = ImageOps.mirror(astronaut()).crop((150, 0, 406, 256))
    frame = Image.new("RGB", size, (40, 44, 52))
    face = portrait.resize((size[1], size[1]), Image.Resampling.LANCZOS)
    frame.paste(face, ((size[0] - size[1]) // 2, 0))
    return frame


def _scene_with(
    person: Image.Image, background: Image.Image, box: tuple[int, int, int]
) -> Image.Image:
    left, top, side = box
    scene = background.resize((1600, 1067), Image.Resampling.LANCZOS)
    scene.paste(person.resize((side, side), Image.Resampling.LANCZOS), (left, top))
    return scene


def demo_photo_set() -> list[DemoPhoto]:
    """The demo session's photos: six of the astronaut, four without anyone."""
    portrait = astronaut()
    with_her: list[tuple[str, Callable[[], Image.Image]]] = [
        ("astronaut-portrait.jpg", lambda: portrait),
        ("astronaut-large.jpg", lambda: portrait.resize((1400, 1400), Image.Resampling.LANCZOS)),
        (
            "astronaut-mirrored-dim.jpg",
            lambda: ImageEnhance.Brightness(ImageOps.mirror(portrait)).enhance(0.6),
        ),
        (
            "astronaut-close-up.jpg",
            lambda: portrait.crop((110, 0, 370, 300)).resize((780, 900), Image.Resampling.LANCZOS),
        ),
        ("astronaut-black-and-white.jpg", lambda: ImageOps.grayscale(portrait).convert("RGB")),
        (
            "astronaut-in-the-cafe.jpg",
            lambda: _scene_with(portrait, _skimage("coffee"), (950, 420, 420)),
        ),
    ]
    without: list[tuple[str, Callable[[], Image.Image]]] = [
        ("coffee.jpg", lambda: _skimage("coffee")),
        ("cat.jpg", lambda: _skimage("chelsea")),
        ("rocket.jpg", lambda: _skimage("rocket")),
        ("cat-bright.jpg", lambda: ImageEnhance.Brightness(_skimage("chelsea")).enhance(1.3)),
    ]
    photos = [DemoPhoto(name, _jpeg(make()), True) for name, make in with_her]
    photos += [DemoPhoto(name, _jpeg(make()), False) for name, make in without]
    return photos


def schedule_demo_photos(app: FastAPI) -> None:
    """Add the demo photos to the demo session once the app has started (in the background)."""
    router = app.router
    previous = router.lifespan_context

    @asynccontextmanager
    async def lifespan_with_demo(application: FastAPI) -> AsyncIterator[Any]:
        async with previous(application) as state:
            thread = threading.Thread(
                target=_add_demo_photos, args=(application,), name="demo-photos", daemon=True
            )
            thread.start()
            yield state

    router.lifespan_context = lifespan_with_demo


def _add_demo_photos(app: FastAPI) -> None:
    from facepass.api.dependencies import app_context
    from facepass.pixora.demo import DEMO_SESSION_ID

    try:
        context = app_context(app)
        added = add_photos(
            context.own_db,
            context.storage,
            context.index_queue,
            context.settings,
            uuid.UUID(DEMO_SESSION_ID),
            demo_photo_set(),
        )
    except Exception:
        logger.warning("could not add the demo photos", exc_info=True)
        return
    logger.info("demo photos ready", extra={"added": added})


def add_photos(
    own_db: OwnDatabase,
    storage: PhotoStorage,
    queue: IndexQueue,
    settings: Settings,
    session_id: uuid.UUID,
    photos: list[DemoPhoto],
) -> int:
    """Add photos through the studios' upload service (queued for indexing); returns how many
    were new (the service skips bytes the session already has)."""
    from facepass.photos.service import store_uploads
    from facepass.photos.upload import HEAD_BYTES, SPOOL_PREFIX, ReceivedFile

    spool = Path(settings.data_dir) / "tmp"
    spool.mkdir(parents=True, exist_ok=True)
    files = []
    for photo in photos:
        fd, name = tempfile.mkstemp(dir=spool, prefix=SPOOL_PREFIX, suffix=".jpg")
        with os.fdopen(fd, "wb") as out:
            out.write(photo.data)
        files.append(
            ReceivedFile(
                filename=photo.filename,
                declared_type="image/jpeg",
                path=Path(name),
                size=len(photo.data),
                sha256=hashlib.sha256(photo.data).hexdigest(),
                head=photo.data[:HEAD_BYTES],
            )
        )
    return store_uploads(own_db, storage, queue, settings, session_id, files).accepted
