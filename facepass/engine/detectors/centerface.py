"""CenterFace (Star-Clouds, MIT) through ONNX Runtime, at an input size chosen per photo."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from facepass.engine.config import EngineConfig
from facepass.engine.detectors.base import Detections, FloatArray, postprocess
from facepass.engine.onnx_graph import with_dynamic_shapes
from facepass.engine.registry import ModelSpec
from facepass.engine.runtime import InferenceSession, create_session

_INPUT = "input.1"
_OUTPUTS = ("537", "538", "539", "540")  # heatmap, scale, offset, landmarks
_STRIDE = 4
_ALIGN = 32  # the network downsamples 32x: input sides must be multiples of 32


class CenterFace:
    """Anchor-free detector: a heatmap of face centres at stride 4 plus size, offset, landmarks."""

    # Smallest face (input pixels) found reliably; photos are scaled so their smallest wanted
    # face reaches this size, up-scaling small photos and down-scaling large ones.
    min_input_face_px = 14.0
    max_upscale = 3.0
    nms_iou = 0.3

    def __init__(self, session: InferenceSession, config: EngineConfig) -> None:
        self._session = session
        self._threshold = config.detection_threshold
        self._max_input_pixels = config.max_detect_megapixels * 1e6

    @classmethod
    def load(cls, spec: ModelSpec, config: EngineConfig) -> CenterFace:
        """Verify and load the ONNX file, declaring its input shape dynamic."""
        model = with_dynamic_shapes(
            spec.read_verified("onnx"),
            {
                _INPUT: ["B", 3, "H", "W"],
                _OUTPUTS[0]: ["B", 1, "h", "w"],
                _OUTPUTS[1]: ["B", 2, "h", "w"],
                _OUTPUTS[2]: ["B", 2, "h", "w"],
                _OUTPUTS[3]: ["B", 10, "h", "w"],
            },
        )
        return cls(create_session(model, config), config)

    def input_scale(self, width: int, height: int, min_face_px: float) -> float:
        """Scale at which the smallest wanted face is just big enough for the network."""
        scale = min(self.min_input_face_px / max(min_face_px, 1.0), self.max_upscale)
        pixel_cap = math.sqrt(self._max_input_pixels / max(width * height, 1))
        return min(scale, pixel_cap)

    def detect(self, image: Image.Image, min_face_px: float) -> Detections:
        """Faces in an RGB image, in its pixel coordinates."""
        scale = self.input_scale(image.width, image.height, min_face_px)
        width = max(_ALIGN, round(image.width * scale))
        height = max(_ALIGN, round(image.height * scale))
        resized = (
            image
            if (width, height) == image.size
            else image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        )
        padded_w = math.ceil(width / _ALIGN) * _ALIGN
        padded_h = math.ceil(height / _ALIGN) * _ALIGN
        blob = np.zeros((1, 3, padded_h, padded_w), np.float32)
        blob[0, :, :height, :width] = np.asarray(resized, dtype=np.float32).transpose(2, 0, 1)
        heatmap, sizes, offsets, landmarks = self._session.run(list(_OUTPUTS), {_INPUT: blob})
        found = self._decode(heatmap, sizes, offsets, landmarks)
        return postprocess(found, self.nms_iou, (width, height), image.size)

    def _decode(
        self, heatmap: FloatArray, sizes: FloatArray, offsets: FloatArray, landmarks: FloatArray
    ) -> Detections:
        rows, cols = np.nonzero(heatmap[0, 0] > self._threshold)
        if rows.size == 0:
            return Detections.empty()
        scores = heatmap[0, 0, rows, cols].astype(np.float32)
        box_h = np.exp(sizes[0, 0, rows, cols]) * _STRIDE
        box_w = np.exp(sizes[0, 1, rows, cols]) * _STRIDE
        centre_y = (rows + offsets[0, 0, rows, cols] + 0.5) * _STRIDE
        centre_x = (cols + offsets[0, 1, rows, cols] + 0.5) * _STRIDE
        x1 = centre_x - box_w / 2
        y1 = centre_y - box_h / 2
        boxes = np.stack([x1, y1, x1 + box_w, y1 + box_h], axis=1).astype(np.float32)
        marks = landmarks[0][:, rows, cols].T.reshape(-1, 5, 2)  # (N, 5, [y, x]) relative
        points = np.empty_like(marks, dtype=np.float32)
        points[:, :, 0] = marks[:, :, 1] * box_w[:, None] + x1[:, None]
        points[:, :, 1] = marks[:, :, 0] * box_h[:, None] + y1[:, None]
        return Detections(boxes, scores, points)
