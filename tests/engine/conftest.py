"""Engine fixtures: the real models, loaded once per test session, and real face images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from facepass.engine import EngineConfig, FaceEngine

# The astronaut's face in skimage.data.astronaut() (512x512), left top right bottom.
ASTRONAUT_FACE = (178.0, 64.0, 270.0, 176.0)


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    """CenterFace + dlib's ResNet (the default before Intel's model, still shipped and used by
    the sessions it indexed), loaded once for every engine test."""
    return FaceEngine.load(EngineConfig(embedder="dlib-resnet-v1"))


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    """Eileen Collins, NASA (public domain), as shipped by scikit-image."""
    from skimage import data

    return Image.fromarray(data.astronaut())  # type: ignore[no-untyped-call]


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    """The image encoded in memory."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def box_iou(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> float:
    """IoU of two left-top-right-bottom boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def unit(vector: np.ndarray) -> bool:  # type: ignore[type-arg]
    return bool(abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4)
