"""Passive anti-spoofing: does a face in a photo look like a live face in front of a camera?

Minivision's MiniFASNet pair (vendored under `models/minifasnet/`, Apache-2.0) judges each face
twice: on the face box enlarged 2.7 times and 4.0 times about its centre, each crop resized to
80x80 and fed as BGR 0-255 (no scaling); each model answers 3 logits (class 1 = live). The two
softmax outputs are summed and halved, as upstream does, so the score is a live probability in
0..1. Crops are made as upstream makes them: the enlarged box is clamped to the image and shifted
inside it, and resized with OpenCV's bilinear rule (no antialiasing), which the models saw in
training.

It was trained on presentation attacks shown to a camera (prints, screens); a face cut out of a
digital photo and uploaded as a file is another kind of attack (`facepass eval liveness`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from facepass.engine.config import EngineConfig
from facepass.engine.registry import ModelRegistry, ModelSpec, default_models_dir
from facepass.engine.runtime import InferenceSession, create_session
from facepass.engine.types import Box

FloatArray = npt.NDArray[np.float32]

INPUT_SIDE = 80
LIVE_CLASS = 1


@dataclass(frozen=True, slots=True)
class _Member:
    scale: float
    session: InferenceSession
    input_name: str


def enlarged_box(box: Box, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Upstream's crop: `box` (x1, y1, x2, y2) enlarged `scale` times about its centre (less if
    the image is too small), shifted back inside the image; inclusive pixel bounds."""
    box_w, box_h = max(box.width, 1.0), max(box.height, 1.0)
    scale = min((height - 1) / box_h, (width - 1) / box_w, scale)
    new_w, new_h = box_w * scale, box_h * scale
    cx, cy = box.left + box_w / 2, box.top + box_h / 2
    left, top, right, bottom = cx - new_w / 2, cy - new_h / 2, cx + new_w / 2, cy + new_h / 2
    if left < 0:
        right -= left
        left = 0
    if top < 0:
        bottom -= top
        top = 0
    if right > width - 1:
        left -= right - width + 1
        right = width - 1
    if bottom > height - 1:
        top -= bottom - height + 1
        bottom = height - 1
    return int(left), int(top), int(right), int(bottom)


def _resize_bilinear(pixels: npt.NDArray[np.uint8], side: int) -> FloatArray:
    """OpenCV's INTER_LINEAR resize (half-pixel centres, no antialiasing) to side x side."""
    height, width = pixels.shape[:2]
    source = pixels.astype(np.float32)

    def axis(out: int, size: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], FloatArray]:
        position = (np.arange(out, dtype=np.float32) + 0.5) * (size / out) - 0.5
        position = np.clip(position, 0, size - 1)
        low = np.floor(position).astype(np.intp)
        high = np.minimum(low + 1, size - 1)
        return low, high, (position - low).astype(np.float32)

    y0, y1, wy = axis(side, height)
    x0, x1, wx = axis(side, width)
    top = source[y0][:, x0] * (1 - wx)[None, :, None] + source[y0][:, x1] * wx[None, :, None]
    bottom = source[y1][:, x0] * (1 - wx)[None, :, None] + source[y1][:, x1] * wx[None, :, None]
    result = top * (1 - wy)[:, None, None] + bottom * wy[:, None, None]
    return np.asarray(result, np.float32)


def _softmax(logits: FloatArray) -> FloatArray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=-1, keepdims=True), np.float32)


class AntiSpoof:
    """The MiniFASNet pair; load once per process (`get_antispoof`), share across threads."""

    def __init__(self, spec: ModelSpec, members: Sequence[_Member]) -> None:
        self.model_id = spec.id
        self._members = tuple(members)
        # The live score below which a face is judged a spoof (the registry entry's params).
        self.threshold = float(spec.params.get("live_threshold", 0.5))

    @classmethod
    def load(cls, spec: ModelSpec, config: EngineConfig) -> AntiSpoof:
        """Verify both ONNX files and build their sessions."""
        members = []
        for role, scale in spec.params["scales"].items():
            session = create_session(spec.read_verified(role), config)
            members.append(_Member(float(scale), session, str(session.get_inputs()[0].name)))
        return cls(spec, members)

    def crops(self, image: Image.Image, box: Box) -> list[FloatArray]:
        """The models' inputs (1 x 3 x 80 x 80, BGR 0-255) for the face at `box` of `image`
        (RGB, in the image's own pixels)."""
        rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        height, width = rgb.shape[:2]
        inputs = []
        for member in self._members:
            left, top, right, bottom = enlarged_box(box, member.scale, width, height)
            patch = rgb[max(top, 0) : bottom + 1, max(left, 0) : right + 1]
            resized = _resize_bilinear(patch, INPUT_SIDE)[:, :, ::-1]  # RGB -> BGR
            inputs.append(np.ascontiguousarray(resized.transpose(2, 0, 1)[None]))
        return inputs

    def score(self, image: Image.Image, box: Box) -> float:
        """The live probability (0..1) of the face at `box` (pixels of `image`)."""
        total = np.zeros(3, np.float32)
        for member, crop in zip(self._members, self.crops(image, box), strict=True):
            (logits,) = member.session.run(None, {member.input_name: crop})
            total += _softmax(np.asarray(logits, np.float32))[0]
        return float(total[LIVE_CLASS] / len(self._members))

    def is_live(self, score: float) -> bool:
        return score >= self.threshold


_loaded: dict[tuple[str, int, tuple[str, ...]], AntiSpoof] = {}
_loaded_lock = threading.Lock()


def get_antispoof(config: EngineConfig | None = None) -> AntiSpoof:
    """The process-wide anti-spoofing model of this configuration, loaded on first use."""
    config = config or EngineConfig()
    key = (config.antispoof, config.intra_op_threads, config.providers)
    with _loaded_lock:
        model = _loaded.get(key)
        if model is None:
            registry = ModelRegistry.discover(config.models_dir or default_models_dir())
            model = AntiSpoof.load(registry.get(config.antispoof, "antispoof"), config)
            _loaded[key] = model
        return model
