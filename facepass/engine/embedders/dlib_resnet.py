"""dlib's ResNet face embedder (CC0): 150x150 chips in, 128-d unit vectors out.

The network runs in ONNX Runtime (rebuilt from dlib's own weights by `dlib_onnx`, identical
outputs to 1e-6, three times faster than the BLAS-less dlib wheel); dlib itself is used only
for its 5-point shape predictor and face chips when that alignment is chosen."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

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
from facepass.engine.views import ALIGNMENTS, Alignment, ChipView, format_views, parse_views

__all__ = ["ALIGNMENTS", "Alignment", "ChipView", "DlibResNet", "parse_views"]


class DlibResNet:
    """dlib_face_recognition_resnet_model_v1 (99.38 % on LFW as published by dlib)."""

    crop_size = 150
    padding = 0.25
    embedding_dim = 128
    min_source_face_px = 100.0
    # Cosine distances between unit vectors that best split LFW View 2's same and different
    # pairs (mean of the 10 folds' thresholds; docs/engine.md), with and without flip averaging.
    match_threshold_flip = 0.086
    match_threshold_plain = 0.094

    def __init__(
        self,
        spec: ModelSpec,
        session: InferenceSession,
        shape_predictor: Any,
        config: EngineConfig,
        alignment: str | tuple[ChipView, ...] | None = None,
    ) -> None:
        # The registry entry fixes the recipe (views, flip averaging) its id stands for; any
        # other recipe makes other vectors, so it gets an id of its own (never mixed in search).
        recipe = parse_views(str(spec.params.get("alignment", "landmarks")))
        if alignment is None:
            alignment = config.alignment
        if alignment is None:
            self.views = recipe
        else:
            self.views = parse_views(alignment) if isinstance(alignment, str) else alignment
        recipe_flip = bool(spec.params.get("flip_average", True))
        self.flip_average = recipe_flip if config.flip_average is None else config.flip_average
        own_recipe = self.views == recipe and self.flip_average == recipe_flip
        self.model_id = (
            spec.id if own_recipe else f"{spec.id}.{_recipe_digest(self.views, self.flip_average)}"
        )
        default = self.match_threshold_flip if self.flip_average else self.match_threshold_plain
        self.match_threshold = float(
            spec.params.get("match_threshold", default) if own_recipe else default
        )
        self._session = session
        self._shape_predictor = shape_predictor
        # Faces per ONNX Runtime call: all their views (and mirrors) go in the same batch.
        self._chips_per_call = (
            max(1, config.embed_batch_size) * len(self.views) * (2 if self.flip_average else 1)
        )

    @classmethod
    def load(cls, spec: ModelSpec, config: EngineConfig) -> DlibResNet:
        """Verify both .dat files; run the network in ONNX Runtime, the predictor in dlib."""
        import dlib  # type: ignore[import-untyped,unused-ignore]

        session = create_session(convert_dlib_resnet(spec.read_verified("resnet")), config)
        predictor = dlib.shape_predictor(str(spec.verified_path("shape_predictor")))
        return cls(spec, session, predictor, config)

    @property
    def recipe(self) -> str:
        """The views embedded per face, as a canonical alignment string."""
        return format_views(self.views)

    def align(self, image: Image.Image, detections: Detections) -> list[UInt8Array]:
        """Per face a 150x150 chip aligned the way dlib's ResNet was trained; with several views
        configured, a (views, 150, 150, 3) stack whose first view is the primary chip."""
        needs_predictor = any(view.alignment != "landmarks" for view in self.views)
        chips = []
        for box, points in zip(detections.boxes, detections.landmarks, strict=True):
            by_landmarks = estimate_similarity(points, DLIB_CHIP_TEMPLATE_150)
            by_predictor = self._predictor_matrix(image, box) if needs_predictor else by_landmarks
            matrices: dict[Alignment, npt.NDArray[np.float64]] = {
                "landmarks": by_landmarks,
                "shape_predictor": by_predictor,
                # Two independent estimates of the same transform: their mean is steadier.
                "fused": (by_landmarks + by_predictor) / 2,
            }
            views = [
                warp(image, view.apply(matrices[view.alignment], self.crop_size), self.crop_size)
                for view in self.views
            ]
            chips.append(views[0] if len(views) == 1 else np.stack(views))
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
        """Unit-length embeddings: per face the mean direction of its views' embeddings, and
        with flip averaging, of the mirrored views' too (one batch for all of them)."""
        if not crops:
            return np.zeros((0, self.embedding_dim), np.float32)
        stacks = [c if c.ndim == 4 else c[None] for c in crops]
        owners = np.repeat(np.arange(len(stacks)), [len(s) for s in stacks])
        chips = np.concatenate(stacks)
        if self.flip_average:
            chips = np.concatenate([chips, chips[:, :, ::-1]])
        vectors = self._run(chips)
        count = len(owners)
        result = _mean_direction(vectors[:count], owners, len(crops))
        if self.flip_average:
            mirrored = _mean_direction(vectors[count:], owners, len(crops))
            result = normalise(result + mirrored)
        return result

    def _run(self, chips: UInt8Array) -> FloatArray:
        blob = np.ascontiguousarray(chips.transpose(0, 3, 1, 2), dtype=np.float32)
        step = self._chips_per_call
        outputs = [
            self._session.run([OUTPUT_NAME], {INPUT_NAME: blob[start : start + step]})[0]
            for start in range(0, len(blob), step)
        ]
        return normalise(np.concatenate(outputs).astype(np.float32))


def _mean_direction(vectors: FloatArray, owners: npt.NDArray[np.intp], count: int) -> FloatArray:
    sums = np.zeros((count, vectors.shape[1]), np.float32)
    np.add.at(sums, owners, vectors)
    return normalise(sums)


def _recipe_digest(views: tuple[ChipView, ...], flip: bool) -> str:
    recipe = f"{format_views(views)}|flip={int(flip)}"
    return hashlib.sha256(recipe.encode()).hexdigest()[:8]
