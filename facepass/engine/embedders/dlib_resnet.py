"""dlib's ResNet face embedder (CC0): 150x150 chips in, 128-d unit vectors out.

The network runs in ONNX Runtime (rebuilt from dlib's own weights by `dlib_onnx`, identical
outputs to 1e-6, three times faster than the BLAS-less dlib wheel); dlib itself is used only
for its 5-point shape predictor and face chips when that alignment is chosen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from facepass.engine.alignment import (
    DLIB_CHIP_TEMPLATE_150,
    dlib_chip_matrix,
    estimate_similarity,
    warp,
)
from facepass.engine.config import EngineConfig
from facepass.engine.detectors.base import Detections
from facepass.engine.embedders.base import FloatArray, UInt8Array, normalise
from facepass.engine.embedders.dlib_onnx import INPUT_NAME, OUTPUT_NAME, convert_dlib_resnet
from facepass.engine.registry import ModelSpec
from facepass.engine.runtime import InferenceSession, create_session

Alignment = Literal["landmarks", "shape_predictor", "fused"]


class DlibResNet:
    """dlib_face_recognition_resnet_model_v1 (99.38 % on LFW as published by dlib)."""

    crop_size = 150
    padding = 0.25
    embedding_dim = 128
    min_source_face_px = 100.0
    # Cosine distance between unit vectors; see docs/engine.md for how it was chosen on LFW.
    default_match_threshold = 0.07

    def __init__(
        self,
        spec: ModelSpec,
        session: InferenceSession,
        shape_predictor: Any,
        config: EngineConfig,
        alignment: Alignment = "landmarks",
    ) -> None:
        self.model_id = spec.id
        self.match_threshold = float(
            spec.params.get("match_threshold", self.default_match_threshold)
        )
        self._session = session
        self._shape_predictor = shape_predictor
        self._flip = config.flip_average
        self._batch = max(1, config.embed_batch_size)
        self.alignment: Alignment = alignment

    @classmethod
    def load(cls, spec: ModelSpec, config: EngineConfig) -> DlibResNet:
        """Verify both .dat files; run the network in ONNX Runtime, the predictor in dlib."""
        import dlib  # type: ignore[import-untyped,unused-ignore]

        session = create_session(convert_dlib_resnet(spec.read_verified("resnet")), config)
        predictor = dlib.shape_predictor(str(spec.verified_path("shape_predictor")))
        alignment: Alignment = "landmarks"
        if config.alignment in ("shape_predictor", "fused"):
            alignment = "shape_predictor" if config.alignment == "shape_predictor" else "fused"
        return cls(spec, session, predictor, config, alignment)

    def align(self, image: Image.Image, detections: Detections) -> list[UInt8Array]:
        """One 150x150 chip per face, aligned the way dlib's ResNet was trained."""
        chips = []
        for box, points in zip(detections.boxes, detections.landmarks, strict=True):
            by_landmarks = estimate_similarity(points, DLIB_CHIP_TEMPLATE_150)
            if self.alignment == "landmarks":
                matrix = by_landmarks
            else:
                matrix = self._predictor_matrix(image, box)
                if self.alignment == "fused":
                    # Two independent estimates of the same transform: their mean is steadier.
                    matrix = (matrix + by_landmarks) / 2
            chips.append(warp(image, matrix, self.crop_size))
        return chips

    def _predictor_matrix(self, image: Image.Image, box: FloatArray) -> npt.NDArray[np.float64]:
        """dlib's own chip transform: its 5-point predictor, then get_face_chip_details."""
        import dlib

        # dlib's detectors draw a square about as wide as CenterFace's box and a little lower
        # (measured against dlib's HOG detector); its shape predictor expects that framing.
        width = float(box[2] - box[0])
        height = float(box[3] - box[1])
        side = 1.02 * width
        centre_x = float(box[0] + box[2]) / 2
        centre_y = float(box[1] + box[3]) / 2 + 0.037 * height
        left = int(centre_x - 1.5 * side)
        top = int(centre_y - 1.5 * side)
        crop = np.asarray(image.crop((left, top, left + int(3 * side), top + int(3 * side))))
        rect = dlib.rectangle(
            int(centre_x - side / 2) - left,
            int(centre_y - side / 2) - top,
            int(centre_x + side / 2) - left,
            int(centre_y + side / 2) - top,
        )
        shape = self._shape_predictor(crop, rect)
        details = dlib.get_face_chip_details(shape, self.crop_size, self.padding)
        chip = details.rect
        matrix = dlib_chip_matrix(
            (chip.left() + left, chip.top() + top, chip.right() + left, chip.bottom() + top),
            details.angle,
            self.crop_size,
        )
        return matrix

    def embed(self, crops: Sequence[UInt8Array]) -> FloatArray:
        """Unit-length embeddings of aligned chips; with flip averaging, of chip and mirror."""
        if not crops:
            return np.zeros((0, self.embedding_dim), np.float32)
        stack = np.stack(list(crops)).astype(np.float32)
        if self._flip:
            stack = np.concatenate([stack, stack[:, :, ::-1]])
        blob = np.ascontiguousarray(stack.transpose(0, 3, 1, 2))
        outputs = [
            self._session.run([OUTPUT_NAME], {INPUT_NAME: blob[start : start + self._batch]})[0]
            for start in range(0, len(blob), self._batch)
        ]
        raw = np.concatenate(outputs).astype(np.float32)
        if self._flip:
            count = len(crops)
            raw = normalise(raw[:count]) + normalise(raw[count:])
        return normalise(raw)
