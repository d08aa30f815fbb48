"""Plain data that crosses the engine's boundary: what a face is, once found.

The engine knows nothing of HTTP, databases or sessions: bytes in, these out. Indexing and
selfie search both consume exactly these types, so a selfie and a photo are treated alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from PIL import Image

Embedding = npt.NDArray[np.float32]


class SkipReason(StrEnum):
    """What is wrong with a detected face (the codes face-collection APIs report).

    Every reason but EXTREME_POSE keeps a face out of the index. A turned face is indexed with
    its pose, which the ranking uses: it matches turned queries, not frontal ones.
    """

    TOO_SMALL = "TOO_SMALL"
    BLURRY = "BLURRY"
    EXTREME_POSE = "EXTREME_POSE"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned face box in pixels of the original (EXIF-oriented) image."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def as_list(self) -> list[float]:
        return [self.left, self.top, self.right, self.bottom]


@dataclass(frozen=True, slots=True)
class FaceQuality:
    """Per-face measures used to decide whether a face is indexed, and to advise a guest."""

    detection_score: float
    size_px: float  # shorter side of the face box, original pixels
    sharpness: float  # variance of the Laplacian on the aligned crop; higher is sharper
    yaw: float  # degrees, estimated from the 5 landmarks
    pitch: float
    roll: float
    skip_reasons: tuple[SkipReason, ...] = ()

    @property
    def indexable(self) -> bool:
        """Worth searching: nothing but its pose is remarkable."""
        return all(reason is SkipReason.EXTREME_POSE for reason in self.skip_reasons)

    @property
    def turned(self) -> bool:
        """Turned beyond the engine's frontal range (EXTREME_POSE)."""
        return SkipReason.EXTREME_POSE in self.skip_reasons


@dataclass(frozen=True, slots=True)
class DetectedFace:
    """One face of an image: where it is, how good it is, and (on request) its embedding."""

    box: Box
    landmarks: tuple[tuple[float, float], ...]  # 5 points: eyes, nose, mouth corners
    quality: FaceQuality
    embedding: Embedding | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ImageAnalysis:
    """Everything the engine found in one image."""

    width: int
    height: int
    faces: tuple[DetectedFace, ...]
    model_id: str  # the embedding model that made the embeddings (registry id)
    # With analyze(..., keep_decoded=True): the largest decode made of the photo (RGB, upright;
    # reduced for big JPEGs, e.g. 3000x2000 or 1500x1000 for 24 MP), for thumbnails.
    decoded: Image.Image | None = field(default=None, compare=False, repr=False)
