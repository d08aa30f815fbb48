"""ArcFace-style ONNX embedders (InsightFace w600k/glint models, OpenCV SFace): 112x112 crops."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from facepass.engine.alignment import ARCFACE_TEMPLATE_112, warp_face
from facepass.engine.config import EngineConfig
from facepass.engine.detectors.base import Detections
from facepass.engine.embedders.base import FloatArray, UInt8Array, normalise
from facepass.engine.registry import ModelSpec
from facepass.engine.runtime import InferenceSession, create_session


class ArcFaceOnnx:
    """Any ONNX model taking N x 3 x 112 x 112 crops aligned to the standard ArcFace template.

    Pixel normalisation differs between exporters; the pack's params give it: `input_mean` and
    `input_std` (InsightFace: 127.5 / 127.5; SFace: 0 / 1) and `bgr` (false for both:
    their reference code swaps OpenCV's BGR to RGB before the network).
    """

    crop_size = 112
    min_source_face_px = 80.0
    default_match_threshold = 0.6

    def __init__(self, spec: ModelSpec, session: InferenceSession, config: EngineConfig) -> None:
        self.model_id = spec.id
        self._session = session
        inputs = session.get_inputs()
        self._input_name = str(inputs[0].name)
        self._fixed_batch = inputs[0].shape[0] if isinstance(inputs[0].shape[0], int) else None
        self._mean = float(spec.params.get("input_mean", 127.5))
        self._std = float(spec.params.get("input_std", 127.5))
        self._bgr = bool(spec.params.get("bgr", False))
        self.embedding_dim = int(spec.params.get("embedding_dim", 512))
        self.match_threshold = float(
            spec.params.get("match_threshold", self.default_match_threshold)
        )
        recipe_flip = bool(spec.params.get("flip_average", True))
        self.flip_average = recipe_flip if config.flip_average is None else config.flip_average
        self._batch = max(1, config.embed_batch_size)

    @classmethod
    def load(cls, spec: ModelSpec, config: EngineConfig) -> ArcFaceOnnx:
        """Verify the ONNX file and build its session."""
        return cls(spec, create_session(spec.read_verified("onnx"), config), config)

    def align(self, image: Image.Image, detections: Detections) -> list[UInt8Array]:
        """112x112 crops on the ArcFace template."""
        return [
            warp_face(image, points, ARCFACE_TEMPLATE_112, self.crop_size)
            for points in detections.landmarks
        ]

    def embed(self, crops: Sequence[UInt8Array]) -> FloatArray:
        """Unit-length embeddings; with flip averaging, of crop and mirror."""
        if not crops:
            return np.zeros((0, self.embedding_dim), np.float32)
        stack = np.stack(list(crops)).astype(np.float32)
        if self.flip_average:
            stack = np.concatenate([stack, stack[:, :, ::-1]])
        if self._bgr:
            stack = stack[..., ::-1]
        blob = np.ascontiguousarray(((stack - self._mean) / self._std).transpose(0, 3, 1, 2))
        step = self._fixed_batch or self._batch
        outputs = []
        for start in range(0, len(blob), step):
            chunk = blob[start : start + step]
            outputs.append(self._session.run(None, {self._input_name: chunk})[0])
        raw = np.concatenate(outputs).astype(np.float32).reshape(len(blob), -1)
        if self.flip_average:
            count = len(crops)
            raw = normalise(raw[:count]) + normalise(raw[count:])
        return normalise(raw)
