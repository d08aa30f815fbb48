"""The interface every embedder shares (dlib's ResNet, Intel's re-identification network,
ArcFace-style ONNX models)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image

from facepass.engine.detectors.base import Detections

FloatArray = npt.NDArray[np.float32]
UInt8Array = npt.NDArray[np.uint8]


class Embedder(Protocol):
    """Aligns faces from their landmarks and turns the crops into unit-length embeddings."""

    model_id: str
    embedding_dim: int
    match_threshold: float  # cosine distance at or below which two faces are the same person
    crop_size: int  # side of the aligned crop, in pixels
    min_source_face_px: float  # face size (source pixels) that gives a full-quality crop
    flip_average: bool  # whether each face's mirror image is embedded and averaged in

    def align(self, image: Image.Image, detections: Detections) -> list[UInt8Array]: ...

    def embed(self, crops: Sequence[UInt8Array]) -> FloatArray: ...


def normalise(vectors: FloatArray) -> FloatArray:
    """Rows scaled to unit length (float32)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: FloatArray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit
