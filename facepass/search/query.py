"""From a selfie to a query: pick the guest's face, check it is usable, keep its embedding.

A selfie may show friends behind the guest: the face kept is the largest, favouring the centre.
A face the engine would not index (too small, blurry) is refused with a code the page turns into
advice, because a poor query silently finds nothing. A turned face is a useful second angle
(it finds the guest's turned photos) but never the only one: a search needs one face that looks
at the camera (`FACE_NOT_FRONTAL` otherwise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from facepass.engine import DetectedFace, FaceEngine, ImageAnalysis, ImageError, SkipReason
from facepass.engine.types import Embedding
from facepass.errors import UnprocessableInput

# Shorter side of the face box below which a selfie is refused: smaller faces embed poorly.
MIN_SELFIE_FACE_PX = 48.0
# How much an off-centre face loses against a central one of the same size (0: none).
CENTRE_WEIGHT = 0.6
# Only the largest few faces of a selfie are candidates (and embedded): the guest is one of them.
MAX_SELFIE_FACES = 3

_ADVICE: dict[SkipReason, tuple[str, str]] = {
    SkipReason.TOO_SMALL: ("FACE_TOO_SMALL", "The face is too small: move closer."),
    SkipReason.BLURRY: ("FACE_BLURRY", "The photo is blurry: hold still, with more light."),
    SkipReason.EXTREME_POSE: ("FACE_NOT_FRONTAL", "Turn your face towards the camera."),
    SkipReason.LOW_CONFIDENCE: (
        "FACE_LOW_CONFIDENCE",
        "The face is hard to see: more light, and look at the camera.",
    ),
}


class SelfieRejected(UnprocessableInput):
    """A selfie with no usable face (422; the code tells the page which advice to show)."""


@dataclass(frozen=True, slots=True)
class QueryFace:
    """The face a selfie contributes to a search."""

    selfie_index: int
    face: DetectedFace
    embedding: Embedding
    image_width: int
    image_height: int

    @property
    def yaw(self) -> float:
        """The face's estimated yaw (degrees): which pose of the session's faces it meets."""
        return self.face.quality.yaw


def _prominence(face: DetectedFace, width: int, height: int) -> float:
    box = face.box
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    offset = math.hypot(cx - width / 2, cy - height / 2) / max(math.hypot(width, height) / 2, 1.0)
    return box.width * box.height * (1.0 - CENTRE_WEIGHT * min(offset, 1.0))


def not_frontal() -> SelfieRejected:
    """The refusal of a search whose every selfie is turned away."""
    code, detail = _ADVICE[SkipReason.EXTREME_POSE]
    return SelfieRejected(detail, code=code)


def pick_query_face(
    analysis: ImageAnalysis, selfie_index: int = 0, *, allow_turned: bool = False
) -> QueryFace:
    """The selfie's main face with its embedding, or SelfieRejected with advice; a turned face
    only with `allow_turned` (the caller then checks that some other selfie is frontal)."""
    if not analysis.faces:
        raise SelfieRejected(
            "No face found: look straight at the camera with your whole face in view.",
            code="NO_FACE_FOUND",
        )
    face = max(analysis.faces, key=lambda f: _prominence(f, analysis.width, analysis.height))
    reasons = [
        reason
        for reason in face.quality.skip_reasons
        if not (allow_turned and reason is SkipReason.EXTREME_POSE)
    ]
    if face.quality.size_px < MIN_SELFIE_FACE_PX and SkipReason.TOO_SMALL not in reasons:
        reasons.insert(0, SkipReason.TOO_SMALL)
    if reasons:
        code, detail = _ADVICE[reasons[0]]
        raise SelfieRejected(detail, code=code)
    if face.embedding is None:
        raise RuntimeError("the engine was asked for embeddings and returned none")
    return QueryFace(
        selfie_index, face, np.asarray(face.embedding, np.float32), analysis.width, analysis.height
    )


def analyze_selfie(
    engine: FaceEngine, data: bytes, selfie_index: int = 0, *, allow_turned: bool = False
) -> QueryFace:
    """Decode, detect and embed one selfie (CPU-heavy: call it off the event loop)."""
    try:
        analysis = engine.analyze(data, embed=True, max_faces=MAX_SELFIE_FACES)
    except ImageError as exc:
        raise SelfieRejected(exc.detail, code=exc.code) from None
    return pick_query_face(analysis, selfie_index, allow_turned=allow_turned)
