"""Image in, faces out: decoding, detection, alignment, quality and embedding, and their models.

Indexing and selfie search both call this package, so a photo and a selfie are treated alike.
"""

from facepass.engine.config import EngineConfig
from facepass.engine.engine import FaceEngine, cosine_distance, get_engine
from facepass.engine.errors import ImageError, ModelError
from facepass.engine.imaging import load_image
from facepass.engine.types import (
    Box,
    DetectedFace,
    Embedding,
    FaceQuality,
    ImageAnalysis,
    SkipReason,
)

__all__ = [
    "Box",
    "DetectedFace",
    "Embedding",
    "EngineConfig",
    "FaceEngine",
    "FaceQuality",
    "ImageAnalysis",
    "ImageError",
    "ModelError",
    "SkipReason",
    "cosine_distance",
    "get_engine",
    "load_image",
]
