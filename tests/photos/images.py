"""Real photos for upload and indexing tests, re-encoded so every test has its own bytes."""

from __future__ import annotations

import io
import uuid

import numpy as np
from PIL import Image
from skimage import data


def jpeg(pixels: np.ndarray | Image.Image, *, side: int | None = None) -> bytes:
    """JPEG bytes of an image, unique per call (a random JPEG comment), optionally resized."""
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    if side is not None:
        scale = side / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, comment=uuid.uuid4().hex.encode())
    return out.getvalue()


def face_jpeg(side: int | None = None) -> bytes:
    """scikit-image's astronaut portrait: exactly one face."""
    return jpeg(data.astronaut(), side=side)  # type: ignore[no-untyped-call]


def faceless_jpeg() -> bytes:
    """scikit-image's coffee cup: no face at all."""
    return jpeg(data.coffee())  # type: ignore[no-untyped-call]


def corrupt_jpeg() -> bytes:
    """Starts like a JPEG (so it is accepted), then is garbage (so indexing fails)."""
    return b"\xff\xd8\xff\xe0" + uuid.uuid4().bytes * 64
