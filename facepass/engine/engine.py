"""The face engine: bytes or pixels in; faces with box, landmarks, quality, embedding out."""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, MutableMapping, Sequence

import numpy as np
from PIL import Image

from facepass.engine.config import EngineConfig
from facepass.engine.detectors.base import Detections, Detector, merge
from facepass.engine.detectors.centerface import CenterFace
from facepass.engine.detectors.scrfd import Scrfd
from facepass.engine.embedders.arcface import ArcFaceOnnx
from facepass.engine.embedders.base import Embedder, FloatArray, UInt8Array
from facepass.engine.embedders.dlib_resnet import DlibResNet
from facepass.engine.embedders.intel_reid import IntelFaceReid
from facepass.engine.errors import ModelError
from facepass.engine.imaging import decode, open_image, oriented_size
from facepass.engine.quality import assess, model_gates
from facepass.engine.registry import ModelRegistry, ModelSpec, default_models_dir
from facepass.engine.types import Box, DetectedFace, ImageAnalysis

logger = logging.getLogger(__name__)

Timings = MutableMapping[str, float]

# Share of the smaller box above which a close-pass detection is the same face as a first-pass
# one (a partial detection inside the whole face included).
_SAME_FACE_OVERLAP = 0.5


def _load_detector(spec: ModelSpec, config: EngineConfig) -> Detector:
    if spec.family == "centerface":
        return CenterFace.load(spec, config)
    if spec.family == "scrfd":
        return Scrfd.load(spec, config)
    raise ModelError("MODEL_UNSUPPORTED", f"No detector class for family {spec.family!r}.")


def _load_embedder(spec: ModelSpec, config: EngineConfig) -> Embedder:
    if spec.family == "dlib-resnet":
        return DlibResNet.load(spec, config)
    if spec.family == "intel-reid":
        return IntelFaceReid.load(spec, config)
    if spec.family == "arcface":
        return ArcFaceOnnx.load(spec, config)
    raise ModelError("MODEL_UNSUPPORTED", f"No embedder class for family {spec.family!r}.")


class _Stopwatch:
    """Adds elapsed milliseconds per stage into an optional dict (for `facepass bench`)."""

    def __init__(self, timings: Timings | None) -> None:
        self._timings = timings
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self._timings is not None:
            self._timings[stage] = self._timings.get(stage, 0.0) + (now - self._last) * 1000
        self._last = now


class FaceEngine:
    """Detects, aligns, assesses and embeds faces; load once per process, share across threads."""

    def __init__(
        self,
        config: EngineConfig,
        detector: Detector,
        embedder: Embedder,
        ranking_factors: Mapping[str, float] | None = None,
        quality_gates: Mapping[str, float] | None = None,
        people_factors: Mapping[str, float] | None = None,
    ) -> None:
        self.config = config
        self.detector = detector
        self.embedder = embedder
        self.model_id: str = embedder.model_id
        self.embedding_dim: int = embedder.embedding_dim
        self.match_threshold: float = embedder.match_threshold
        # The search's consensus and pose factors tuned for this model (its registry entry's
        # params "ranking", written by `facepass eval calibrate`); empty: the search defaults.
        self.ranking_factors: Mapping[str, float] = dict(ranking_factors or {})
        # The people grouping's cuts tuned for this model (params "people", written from
        # `facepass eval people --tune`); empty: the grouping's defaults.
        self.people_factors: Mapping[str, float] = dict(people_factors or {})
        # The configuration faces are judged by: the embedder's own quality gates (its entry's
        # params "quality", chosen for that model) where the configuration keeps the defaults.
        self.gates: EngineConfig = model_gates(config, quality_gates)

    @classmethod
    def load(cls, config: EngineConfig | None = None) -> FaceEngine:
        """Verify and load the configured detector and embedder (expensive: do it once)."""
        config = config or EngineConfig()
        started = time.perf_counter()
        registry = ModelRegistry.discover(config.models_dir or default_models_dir())
        detector = _load_detector(registry.get(config.detector, "detector"), config)
        embedder_spec = registry.get(config.embedder, "embedder")
        embedder = _load_embedder(embedder_spec, config)
        factors = embedder_spec.params.get("ranking") or {}
        gates = embedder_spec.params.get("quality") or {}
        people = embedder_spec.params.get("people") or {}
        logger.info(
            "Face engine ready (%s + %s) in %.0f ms",
            config.detector,
            embedder.model_id,
            (time.perf_counter() - started) * 1000,
        )
        return cls(
            config,
            detector,
            embedder,
            {str(k): float(v) for k, v in factors.items()},
            {str(k): float(v) for k, v in gates.items()},
            {str(k): float(v) for k, v in people.items()},
        )

    def analyze(
        self,
        data: bytes,
        *,
        embed: bool = True,
        max_faces: int | None = None,
        timings: Timings | None = None,
        keep_decoded: bool = False,
        min_face_fraction: float | None = None,
    ) -> ImageAnalysis:
        """Every face in an uploaded image (largest first); raises ImageError if unreadable.

        Faces down to `min_face_fraction` of the shorter side are looked for (default the
        configuration's; indexing asks for its smaller `photo_min_face_fraction`).

        The photo is decoded at the reduced size detection needs (JPEG draft mode); if some face
        is too small there for a full-quality crop, it is decoded again just large enough.
        With `keep_decoded`, the larger of those decodes is returned as `decoded` (thumbnails
        can be made from it instead of decoding the photo once more).
        """
        watch = _Stopwatch(timings)
        image = open_image(data)
        width, height = oriented_size(image)
        fraction = self.config.min_face_fraction if min_face_fraction is None else min_face_fraction
        min_face = fraction * min(width, height)
        scale = self.detector.input_scale(width, height, min_face)
        base = decode(image, max_side=math.ceil(max(width, height) * min(scale, 1.0)))
        watch.lap("decode")

        largest = [base]

        def source_at(needed_scale: float) -> Image.Image:
            if base.width >= width * needed_scale * 0.95 or base.size == (width, height):
                return base
            sharper = decode(
                open_image(data), max_side=math.ceil(max(width, height) * needed_scale)
            )
            largest[0] = sharper
            watch.lap("decode")
            return sharper

        analysis = self._analyze(base, width, height, source_at, embed, max_faces, watch, min_face)
        if not keep_decoded:
            return analysis
        return dataclasses.replace(analysis, decoded=largest[0])

    def analyze_image(
        self, image: Image.Image, *, embed: bool = True, max_faces: int | None = None
    ) -> ImageAnalysis:
        """Every face in an already decoded (and oriented) image, largest first."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        min_face = self.config.min_face_fraction * min(rgb.size)
        return self._analyze(
            rgb, rgb.width, rgb.height, lambda _: rgb, embed, max_faces, _Stopwatch(None), min_face
        )

    def _analyze(
        self,
        base: Image.Image,
        width: int,
        height: int,
        source_at: Callable[[float], Image.Image],
        embed: bool,
        max_faces: int | None,
        watch: _Stopwatch,
        min_face: float,
    ) -> ImageAnalysis:
        base_factor = base.width / width
        found = self.detector.detect(base, min_face * base_factor)
        found = merge(found, self._close_faces(base), _SAME_FACE_OVERLAP).scaled(1 / base_factor)
        areas = (found.boxes[:, 2] - found.boxes[:, 0]) * (found.boxes[:, 3] - found.boxes[:, 1])
        order = np.argsort(-areas, kind="stable")[: max_faces if max_faces is not None else None]
        found = found.select(order)
        watch.lap("detect")
        if len(found) == 0:
            return ImageAnalysis(width, height, (), self.model_id)
        sizes = np.minimum(
            found.boxes[:, 2] - found.boxes[:, 0], found.boxes[:, 3] - found.boxes[:, 1]
        )
        needed = float(min(1.0, self.embedder.min_source_face_px / max(float(sizes.min()), 1.0)))
        source = source_at(needed)
        crops = self.embedder.align(source, found.scaled(source.width / width))
        watch.lap("align")
        embeddings = self.embedder.embed(crops) if embed else None
        watch.lap("embed")
        return ImageAnalysis(width, height, self._faces(found, crops, embeddings), self.model_id)

    def _close_faces(self, image: Image.Image) -> Detections:
        """Faces that fill the image or are cut by its edge, in its pixels (the close pass).

        At the first pass's scale such a face is larger than anything the detector learnt,
        and half of it may lie outside the frame. Here the image is shrunk and its border
        pixels repeated around it, so the face looks like an ordinary one with context.
        """
        side = self.config.close_pass_side
        if side <= 0:
            return Detections.empty()
        longer = max(image.size)
        pad = self.config.close_pass_padding * longer
        factor = side / (longer + 2 * pad)
        width, height = max(1, round(image.width * factor)), max(1, round(image.height * factor))
        small = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        margin = round(pad * factor)
        pixels = np.pad(np.asarray(small), ((margin, margin), (margin, margin), (0, 0)), "edge")
        # The smallest face wanted is the detector's own minimum: it runs at this very size.
        found = self.detector.detect(Image.fromarray(pixels), self.detector.min_input_face_px)
        if len(found) == 0:
            return found
        sizes = np.minimum(
            found.boxes[:, 2] - found.boxes[:, 0], found.boxes[:, 3] - found.boxes[:, 1]
        )
        found = found.select(
            np.flatnonzero(sizes >= self.config.close_pass_min_face * min(width, height))
        )
        shift = np.array([margin, margin], np.float32)
        boxes = (found.boxes - np.tile(shift, 2)) / factor
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, image.width)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, image.height)
        return Detections(boxes, found.scores, (found.landmarks - shift) / factor)

    def _faces(
        self, found: Detections, crops: Sequence[UInt8Array], embeddings: FloatArray | None
    ) -> tuple[DetectedFace, ...]:
        # With several aligned views per face, the first is the one quality is measured on.
        primary = [crop[0] if crop.ndim == 4 else crop for crop in crops]
        faces = []
        for index in range(len(found)):
            box, points = found.boxes[index], found.landmarks[index]
            faces.append(
                DetectedFace(
                    box=Box(*(float(v) for v in box)),
                    landmarks=tuple((float(x), float(y)) for x, y in points),
                    quality=assess(
                        float(found.scores[index]), box, points, primary[index], self.gates
                    ),
                    embedding=None if embeddings is None else embeddings[index],
                )
            )
        return tuple(faces)

    def embed_faces(self, crops: Sequence[UInt8Array]) -> FloatArray:
        """Embeddings (N x embedding_dim, unit length) of crops made by `embedder.align`."""
        return self.embedder.embed(crops)

    def close_pass(self, image: Image.Image) -> Detections:
        """The close pass alone, in the image's pixels (the selfie path runs it on demand)."""
        return self._close_faces(image)

    def describe_faces(
        self, found: Detections, crops: Sequence[UInt8Array], embeddings: FloatArray | None
    ) -> tuple[DetectedFace, ...]:
        """Faces with their quality measured on their crops (the selfie path's last stage)."""
        return self._faces(found, crops, embeddings)


# The process's one engine cache, bounded: the configured model, the older model of sessions not
# re-indexed yet, and a spare. An evicted engine lives on while a caller still holds it.
MAX_CACHED_ENGINES = 3
_engines: OrderedDict[EngineConfig, FaceEngine] = OrderedDict()
_engines_lock = threading.Lock()


def get_engine(config: EngineConfig | None = None) -> FaceEngine:
    """The process-wide engine for this configuration, loaded on first use (thread-safe); the
    least recently used one is dropped beyond MAX_CACHED_ENGINES."""
    config = config or EngineConfig()
    with _engines_lock:
        engine = _engines.get(config)
        if engine is None:
            engine = FaceEngine.load(config)
            _engines[config] = engine
            while len(_engines) > MAX_CACHED_ENGINES:
                _engines.popitem(last=False)
        _engines.move_to_end(config)
        return engine


def is_loaded(config: EngineConfig) -> bool:
    """Whether the engine for `config` is in the cache now (no load)."""
    with _engines_lock:
        return config in _engines


def cosine_distance(a: FloatArray | Sequence[float], b: FloatArray | Sequence[float]) -> float:
    """1 - cosine similarity; for the engine's unit-length embeddings, 1 - a.b."""
    va = np.asarray(a, dtype=np.float64)
    vb = np.asarray(b, dtype=np.float64)
    denominator = float(np.linalg.norm(va) * np.linalg.norm(vb))
    if denominator == 0.0:
        raise ValueError("cosine distance is undefined for a zero vector")
    return 1.0 - float(va @ vb) / denominator
