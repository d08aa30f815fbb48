"""Is a pair of selfies a live guest? The rule, apart from HTTP and storage.

A live pair is two camera frames: the guest looking at the camera, then turned a little the way
the challenge asked. It is accepted only if

- the second face turns the asked way: its yaw moved at least `min_turn_deg` from the first
  frame's, in the asked direction;
- both faces are the same person: cosine distance of their embeddings (the session's embedder)
  at most `same_person_factor` times the embedder's match threshold;
- the passive anti-spoofing model judges each frame live.

Directions are the guest's own: turning to their left moves the nose towards the right of the
camera's (unmirrored) picture, which is a positive yaw in the engine's convention (yaw > 0 turns
towards the image's right; checked on CFP's profile photos, docs/hardening.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from facepass.engine import FaceEngine, ImageError, cosine_distance
from facepass.engine.antispoof import AntiSpoof
from facepass.engine.types import Box
from facepass.guest.challenge import Direction
from facepass.search.query import MAX_SELFIE_FACES, QueryFace, SelfieRejected, pick_query_face

# The sign of the yaw change a turn to the guest's own left / right makes in the camera's frame.
YAW_SIGN = {Direction.LEFT: 1.0, Direction.RIGHT: -1.0}

# A copy of an indexed face is nearer it than this times the embedder's match threshold
# (docs/hardening.md, "Live selfies": chosen with `facepass eval copies --split tune`).
COPY_FACTOR = 0.12


class LiveRefusal(StrEnum):
    """Why a pair is not live (the error code the guest page turns into advice)."""

    NOT_TURNED = "LIVE_NOT_TURNED"
    NOT_SAME_PERSON = "LIVE_NOT_SAME_PERSON"
    NOT_LIVE = "LIVE_SPOOF_SUSPECTED"
    # Judged after the pair passes, against the session's faces (search/copy_guard.py).
    COPIED = "LIVE_COPIED_FACE"


@dataclass(frozen=True, slots=True)
class LiveParams:
    """The constants of the rule (docs/hardening.md, "Live selfies").

    `min_turn_deg`: the page asks for "a little" (15-45 degrees in the evaluation's genuine
    pairs); 10 leaves guests who turn less a margin. `same_person_factor` 1: the session's
    embedder at its own threshold. `live_threshold`: the anti-spoofing model's, from its
    registry entry (chosen on the tuning split by `facepass eval liveness --split tune --tune
    0.98`) unless the operator sets FACEPASS_LIVE_SPOOF_THRESHOLD. `copy_factor`: a frame
    nearer than this times the embedder's match threshold to a face the session holds is a
    copy of it, not a new capture (search/copy_guard.py; chosen on the tuning split by
    `facepass eval copies --split tune`, FACEPASS_LIVE_COPY_FACTOR overrides, 0 turns it off).
    """

    min_turn_deg: float = 10.0
    same_person_factor: float = 1.0
    live_threshold: float = 0.5
    copy_factor: float = COPY_FACTOR

    @classmethod
    def for_model(
        cls,
        antispoof: AntiSpoof,
        live_threshold: float | None = None,
        copy_factor: float | None = None,
    ) -> LiveParams:
        """The rule with the model's threshold, or the operator's."""
        return cls(
            live_threshold=antispoof.threshold if live_threshold is None else live_threshold,
            copy_factor=COPY_FACTOR if copy_factor is None else copy_factor,
        )


@dataclass(frozen=True, slots=True)
class LiveFrame:
    """What the rule needs of one frame: the guest's face (with its embedding) and how live the
    anti-spoofing model finds it."""

    query: QueryFace
    live_score: float

    @property
    def yaw(self) -> float:
        return self.query.face.quality.yaw


@dataclass(frozen=True, slots=True)
class LiveVerdict:
    refusal: LiveRefusal | None
    turn_deg: float
    distance: float
    live_scores: tuple[float, float]

    @property
    def live(self) -> bool:
        return self.refusal is None


def analyze_frame(
    engine: FaceEngine, antispoof: AntiSpoof, data: bytes, index: int, *, allow_turned: bool
) -> LiveFrame:
    """Detect, embed and judge one frame (CPU-heavy: call it off the event loop); the face is
    the one a search would take (SelfieRejected with the search's advice otherwise)."""
    try:
        analysis = engine.analyze(data, embed=True, max_faces=MAX_SELFIE_FACES, keep_decoded=True)
    except ImageError as exc:
        raise SelfieRejected(exc.detail, code=exc.code) from None
    query = pick_query_face(analysis, index, allow_turned=allow_turned)
    decoded = analysis.decoded
    assert decoded is not None  # asked for with keep_decoded
    factor = decoded.width / analysis.width
    box = query.face.box
    scaled = Box(box.left * factor, box.top * factor, box.right * factor, box.bottom * factor)
    return LiveFrame(query, antispoof.score(decoded, scaled))


def judge_pair(
    first: LiveFrame,
    second: LiveFrame,
    direction: Direction,
    params: LiveParams,
    match_threshold: float,
) -> LiveVerdict:
    """The verdict on a frontal frame and a turned one, first refusal reason first: the turn
    (cheapest for a guest to fix), then identity, then the anti-spoofing model."""
    turn = (second.yaw - first.yaw) * YAW_SIGN[direction]
    distance = cosine_distance(first.query.embedding, second.query.embedding)
    scores = (first.live_score, second.live_score)
    refusal: LiveRefusal | None = None
    if turn < params.min_turn_deg:
        refusal = LiveRefusal.NOT_TURNED
    elif distance > params.same_person_factor * match_threshold:
        refusal = LiveRefusal.NOT_SAME_PERSON
    elif min(scores) < params.live_threshold:
        refusal = LiveRefusal.NOT_LIVE
    return LiveVerdict(refusal, turn, distance, scores)
