"""InsightFace-style SCRFD detectors from an operator's ONNX file (decoding as insightface's
model_zoo/scrfd.py): per stride, anchor scores, box distances and 5-point keypoint offsets."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from facepass.engine.config import EngineConfig
from facepass.engine.detectors.base import Detections, FloatArray, postprocess
from facepass.engine.errors import ModelError
from facepass.engine.onnx_graph import output_count
from facepass.engine.registry import ModelSpec
from facepass.engine.runtime import InferenceSession, create_session

# Output count -> (strides, has keypoints), the layouts insightface recognises. Outputs come
# ordered as scores per stride, then box distances per stride, then keypoints per stride.
_LAYOUTS: dict[int, tuple[tuple[int, ...], bool]] = {
    6: ((8, 16, 32), False),
    9: ((8, 16, 32), True),
    10: ((8, 16, 32, 64, 128), False),
    15: ((8, 16, 32, 64, 128), True),
}
_ALIGN = 32  # input sides of a dynamic-shape model must divide by the largest stride used


def _layout(spec: ModelSpec, outputs: int) -> tuple[int, ...]:
    layout = _LAYOUTS.get(outputs)
    if layout is None:
        raise ModelError(
            "MODEL_UNSUPPORTED",
            f"{spec.id}: {outputs} outputs is not an SCRFD layout (6, 9, 10 or 15 expected).",
        )
    strides, keypoints = layout
    if not keypoints:
        # Alignment and pose estimation need the 5 points; a box-only model cannot feed them.
        raise ModelError(
            "MODEL_UNSUPPORTED",
            f"{spec.id} predicts no keypoints; the engine needs an SCRFD '_kps' model.",
        )
    return strides


class Scrfd:
    """SCRFD (InsightFace): anchor-based, 1 or 2 anchors per location, strides 8 to 32 or 128.

    Pack params: `input_size` [width, height] to run at a fixed letterboxed size (forced when
    the ONNX input is fixed; else the size is chosen per photo, like CenterFace's),
    `score_threshold` (0.5, insightface's default), `input_mean` / `input_std` (127.5 / 128)
    and `bgr` (false: insightface's blobFromImage swaps OpenCV's BGR to RGB).
    """

    min_input_face_px = 16.0  # the smallest anchor (stride 8) is 16 px
    max_upscale = 3.0
    nms_iou = 0.4  # insightface's nms_thresh
    default_score_threshold = 0.5

    def __init__(
        self,
        spec: ModelSpec,
        session: InferenceSession,
        strides: tuple[int, ...],
        config: EngineConfig,
    ) -> None:
        self._session = session
        self._strides = strides
        source = session.get_inputs()[0]
        self._input_name = str(source.name)
        shape = list(source.shape)
        size = spec.params.get("input_size")
        if size is None and len(shape) == 4 and all(isinstance(d, int) for d in shape[2:]):
            size = (shape[3], shape[2])
        self._fixed: tuple[int, int] | None = None if size is None else (int(size[0]), int(size[1]))
        self._threshold = float(spec.params.get("score_threshold", self.default_score_threshold))
        self._mean = float(spec.params.get("input_mean", 127.5))
        self._std = float(spec.params.get("input_std", 128.0))
        self._bgr = bool(spec.params.get("bgr", False))
        self._max_input_pixels = config.max_detect_megapixels * 1e6

    @classmethod
    def load(cls, spec: ModelSpec, config: EngineConfig) -> Scrfd:
        """Verify the ONNX file, choose the decoding from its output count, build its session."""
        model = spec.read_verified("onnx")
        strides = _layout(spec, output_count(model))
        return cls(spec, create_session(model, config), strides, config)

    def input_scale(self, width: int, height: int, min_face_px: float) -> float:
        """Letterbox scale for a fixed input; else the scale making the smallest face findable."""
        if self._fixed is not None:
            return min(self._fixed[0] / max(width, 1), self._fixed[1] / max(height, 1))
        scale = min(self.min_input_face_px / max(min_face_px, 1.0), self.max_upscale)
        return min(scale, math.sqrt(self._max_input_pixels / max(width * height, 1)))

    def detect(self, image: Image.Image, min_face_px: float) -> Detections:
        """Faces in an RGB image, in its pixel coordinates."""
        scale = self.input_scale(image.width, image.height, min_face_px)
        width = max(1, round(image.width * scale))
        height = max(1, round(image.height * scale))
        if self._fixed is not None:
            width, height = min(width, self._fixed[0]), min(height, self._fixed[1])
            padded_w, padded_h = self._fixed
        else:
            padded_w = max(_ALIGN, math.ceil(width / _ALIGN) * _ALIGN)
            padded_h = max(_ALIGN, math.ceil(height / _ALIGN) * _ALIGN)
        resized = (
            image
            if (width, height) == image.size
            else image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        )
        pixels = np.asarray(resized, dtype=np.float32)
        if self._bgr:
            pixels = pixels[..., ::-1]
        # The padding is black pixels, normalised like the rest (insightface pads with zeros).
        blob = np.full((1, 3, padded_h, padded_w), -self._mean / self._std, np.float32)
        blob[0, :, :height, :width] = ((pixels - self._mean) / self._std).transpose(2, 0, 1)
        outputs = self._session.run(None, {self._input_name: blob})
        found = self._decode(outputs, padded_w, padded_h)
        return postprocess(found, self.nms_iou, (width, height), image.size)

    def _decode(self, outputs: list[FloatArray], padded_w: int, padded_h: int) -> Detections:
        count = len(self._strides)
        boxes, scores, points = [], [], []
        for level, stride in enumerate(self._strides):
            # Batched exports add a leading batch axis: (1, anchors, C) rather than (anchors, C).
            score, distance, offsets = (
                np.asarray(outputs[level + count * part], np.float32).reshape(-1, size)
                for part, size in enumerate((1, 4, 10))
            )
            keep = np.nonzero(score[:, 0] >= self._threshold)[0]
            if keep.size == 0:
                continue
            cells_x, cells_y = math.ceil(padded_w / stride), math.ceil(padded_h / stride)
            anchors = score.shape[0] // (cells_x * cells_y)
            if anchors * cells_x * cells_y != score.shape[0]:
                raise ModelError(
                    "MODEL_INVALID",
                    f"SCRFD stride {stride}: {score.shape[0]} scores for a "
                    f"{cells_x}x{cells_y} grid.",
                )
            # Anchor i sits at cell i // anchors, cells in row-major order (x fastest).
            cell = keep // anchors
            centres = np.stack([cell % cells_x, cell // cells_x], axis=1).astype(np.float32)
            centres *= stride
            near = distance[keep] * stride
            boxes.append(np.concatenate([centres - near[:, :2], centres + near[:, 2:]], axis=1))
            points.append(centres[:, None, :] + offsets[keep].reshape(-1, 5, 2) * stride)
            scores.append(score[keep, 0])
        if not scores:
            return Detections.empty()
        return Detections(
            np.concatenate(boxes).astype(np.float32),
            np.concatenate(scores).astype(np.float32),
            np.concatenate(points).astype(np.float32),
        )
