"""From a selfie to a query: pick the guest's face, check it is usable, keep its embedding.

A selfie may show friends behind the guest: the face kept is the largest, favouring the centre.
A face the engine would not index (too small, blurry) is refused with a code the page turns into
advice, because a poor query silently finds nothing. A turned face is a useful second angle
(it finds the guest's turned photos) but never the only one: a search needs one face that looks
at the camera (`FACE_NOT_FRONTAL` otherwise).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from facepass.engine import DetectedFace, FaceEngine, ImageAnalysis, ImageError, SkipReason
from facepass.engine.embedders.base import UInt8Array
from facepass.engine.selfie import SelfieProfile, prepare_selfie
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


def choose_query_face(analysis: ImageAnalysis, *, allow_turned: bool = False) -> int:
    """Which face of the selfie is the guest's (its index), or SelfieRejected with advice; a
    turned face only with `allow_turned` (the caller then checks that some other selfie is
    frontal). Needs no embedding: the search embeds only the face chosen."""
    if not analysis.faces:
        raise SelfieRejected(
            "No face found: look straight at the camera with your whole face in view.",
            code="NO_FACE_FOUND",
        )
    chosen = max(
        range(len(analysis.faces)),
        key=lambda i: _prominence(analysis.faces[i], analysis.width, analysis.height),
    )
    face = analysis.faces[chosen]
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
    return chosen


def pick_query_face(
    analysis: ImageAnalysis, selfie_index: int = 0, *, allow_turned: bool = False
) -> QueryFace:
    """The selfie's main face with its embedding (an analysis whose faces are embedded), or
    SelfieRejected with advice (as `choose_query_face`)."""
    face = analysis.faces[choose_query_face(analysis, allow_turned=allow_turned)]
    if face.embedding is None:
        raise RuntimeError("the engine was asked for embeddings and returned none")
    return QueryFace(
        selfie_index, face, np.asarray(face.embedding, np.float32), analysis.width, analysis.height
    )


def analyze_selfie(
    engine: FaceEngine, data: bytes, selfie_index: int = 0, *, allow_turned: bool = False
) -> QueryFace:
    """Decode, detect and embed one selfie on the selfie path (CPU-heavy: off the event loop);
    only the face chosen is embedded."""
    prepared = prepare_query(engine, data, allow_turned=allow_turned)
    embedding = engine.embed_faces([prepared.crop])[0]
    return prepared.query(selfie_index, embedding)


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    """A selfie's chosen face, aligned and assessed, waiting for its embedding."""

    analysis: ImageAnalysis
    chosen: int
    crop: UInt8Array

    def query(self, selfie_index: int, embedding: Embedding) -> QueryFace:
        face = dataclasses.replace(self.analysis.faces[self.chosen], embedding=embedding)
        vector = np.asarray(embedding, np.float32)
        return QueryFace(selfie_index, face, vector, self.analysis.width, self.analysis.height)


def prepare_query(
    engine: FaceEngine,
    data: bytes,
    *,
    allow_turned: bool = False,
    profile: SelfieProfile | None = None,
) -> PreparedQuery:
    """The selfie path up to the embedding (facepass.engine.selfie), then the face chosen;
    SelfieRejected when the image is unreadable or no face is usable."""
    try:
        prepared = prepare_selfie(engine, data, max_faces=MAX_SELFIE_FACES, profile=profile)
    except ImageError as exc:
        raise SelfieRejected(exc.detail, code=exc.code) from None
    chosen = choose_query_face(prepared.analysis, allow_turned=allow_turned)
    return PreparedQuery(prepared.analysis, chosen, prepared.crops[chosen])
