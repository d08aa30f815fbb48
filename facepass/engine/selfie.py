"""The selfie path: a guest's face from a phone photo, with only the work a selfie needs.

Indexing (`FaceEngine.analyze`) must find every face of a group photo, down to 1/50 of its
shorter side, and always runs the close pass for faces that fill the frame. A selfie is
searched with one of its few largest faces, and a face under `MIN_SELFIE_FACE_PX` is refused
anyway, so this path:

- detects at the resolution the selfie's face requires: the smallest face looked for is
  `SELFIE_MIN_FACE_PX` or `SELFIE_MIN_FACE_FRACTION` of the shorter side, whichever is larger
  (a 1024 px selfie is detected at ~450 px instead of ~700 px, a 512 px one at ~225 px instead
  of being up-scaled to ~700 px);
- runs the close pass only when the first pass calls for it: no confident face, or the
  largest face is cut by the frame's edge or fills much of it (what the pass exists for);
- aligns and assesses at most `max_faces` faces, and leaves the embedding to the caller, who
  embeds only the faces it keeps (a search: one per selfie, all selfies of all concurrent
  requests in one micro-batch), with the embedder's own view recipe (docs/search.md).

Every stage is timed in wall and CPU milliseconds (`SelfieProfile`) for `Server-Timing` and
`facepass bench search`. It is kept apart from indexing so that the two policies can change
independently; both share the detector, embedder and quality code.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np

from facepass.engine.detectors.base import Detections, merge
from facepass.engine.embedders.base import UInt8Array
from facepass.engine.engine import FaceEngine
from facepass.engine.imaging import decode, open_image, oriented_size
from facepass.engine.types import ImageAnalysis

# Smallest face the first pass must find: the engine's TOO_SMALL size (32 px), so that a
# face too small to search is still found and refused with advice ("move closer") rather
# than as NO_FACE_FOUND; and never below this fraction of the shorter side, so that a large
# upload costs what a 1024 px one does.
SELFIE_MIN_FACE_PX = 32.0
SELFIE_MIN_FACE_FRACTION = 1 / 32
# The close pass runs when the first pass's largest face scores below this, comes within
# this fraction of the frame's edge, or is larger than this fraction of the shorter side.
CLOSE_PASS_BELOW_SCORE = 0.6
CLOSE_PASS_EDGE_MARGIN = 0.01
CLOSE_PASS_FACE_FRACTION = 0.45
# Share of the smaller box above which a close-pass detection is a first-pass face (as indexing).
_SAME_FACE_OVERLAP = 0.5


@dataclass
class SelfieProfile:
    """Milliseconds per stage, wall clock and CPU of the thread doing the work."""

    wall_ms: dict[str, float] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)

    def add(self, other: SelfieProfile) -> None:
        for stage, value in other.wall_ms.items():
            self.wall_ms[stage] = self.wall_ms.get(stage, 0.0) + value
        for stage, value in other.cpu_ms.items():
            self.cpu_ms[stage] = self.cpu_ms.get(stage, 0.0) + value

    @property
    def cpu_total_ms(self) -> float:
        return sum(self.cpu_ms.values())


class StageClock:
    """Laps of wall and thread CPU time into a profile, one stage name per lap."""

    def __init__(self, profile: SelfieProfile) -> None:
        self.profile = profile
        self._wall = time.perf_counter()
        self._cpu = time.thread_time()

    def lap(self, stage: str) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        self.profile.wall_ms[stage] = self.profile.wall_ms.get(stage, 0.0) + 1000 * (
            wall - self._wall
        )
        self.profile.cpu_ms[stage] = self.profile.cpu_ms.get(stage, 0.0) + 1000 * (cpu - self._cpu)
        self._wall, self._cpu = wall, cpu

    def restart(self) -> None:
        """Start the next lap now (time spent waiting, e.g. for a batch, is not a stage's)."""
        self._wall, self._cpu = time.perf_counter(), time.thread_time()


def selfie_min_face_px(width: int, height: int) -> float:
    """The smallest face (original pixels) a selfie's first detection pass looks for."""
    return max(SELFIE_MIN_FACE_PX, SELFIE_MIN_FACE_FRACTION * min(width, height))


def needs_close_pass(found: Detections, width: int, height: int) -> bool:
    """Whether the first pass leaves a close face in doubt (see the module's docstring)."""
    if len(found) == 0:
        return True
    boxes = found.boxes
    largest = int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))
    left, top, right, bottom = (float(v) for v in boxes[largest])
    margin = CLOSE_PASS_EDGE_MARGIN * min(width, height)
    at_edge = left <= margin or top <= margin or right >= width - margin
    at_edge = at_edge or bottom >= height - margin
    large = min(right - left, bottom - top) > CLOSE_PASS_FACE_FRACTION * min(width, height)
    return bool(found.scores[largest] < CLOSE_PASS_BELOW_SCORE or at_edge or large)


@dataclass(frozen=True)
class SelfieFaces:
    """A selfie's largest faces with their quality, not yet embedded, and their crops.

    The caller chooses which faces are worth embedding (a search: one per selfie) and embeds
    them with `FaceEngine.embed_faces` (or a micro-batcher in front of it).
    """

    analysis: ImageAnalysis  # faces without embeddings
    crops: list[UInt8Array]  # one per face, as `Embedder.align` makes them


def prepare_selfie(
    engine: FaceEngine, data: bytes, *, max_faces: int, profile: SelfieProfile | None = None
) -> SelfieFaces:
    """Decode, detect (the close pass if called for), align and assess a selfie's largest
    `max_faces` faces; raises ImageError if the file is unreadable."""
    clock = StageClock(profile if profile is not None else SelfieProfile())
    image = open_image(data)
    width, height = oriented_size(image)
    min_face = selfie_min_face_px(width, height)
    detector = engine.detector
    scale = min(detector.input_scale(width, height, min_face), 1.0)
    base = decode(image, max_side=math.ceil(max(width, height) * scale))
    clock.lap("decode")
    factor = base.width / width
    found = detector.detect(base, min_face * factor).scaled(1 / factor)
    clock.lap("detect")
    if needs_close_pass(found, width, height):
        close = engine.close_pass(base).scaled(1 / factor)
        found = merge(found, close, _SAME_FACE_OVERLAP)
        clock.lap("close_pass")
    areas = (found.boxes[:, 2] - found.boxes[:, 0]) * (found.boxes[:, 3] - found.boxes[:, 1])
    found = found.select(np.argsort(-areas, kind="stable")[:max_faces])
    if len(found) == 0:
        return SelfieFaces(ImageAnalysis(width, height, (), engine.model_id), [])
    sizes = np.minimum(found.boxes[:, 2] - found.boxes[:, 0], found.boxes[:, 3] - found.boxes[:, 1])
    needed = float(min(1.0, engine.embedder.min_source_face_px / max(float(sizes.min()), 1.0)))
    source = base
    if base.width < width * needed * 0.95 and base.size != (width, height):
        # A small face needs more pixels than detection did: decode once more, larger.
        source = decode(open_image(data), max_side=math.ceil(max(width, height) * needed))
        clock.lap("decode")
    crops = engine.embedder.align(source, found.scaled(source.width / width))
    clock.lap("align")
    faces = engine.describe_faces(found, crops, None)
    clock.lap("quality")
    return SelfieFaces(ImageAnalysis(width, height, faces, engine.model_id), crops)


def analyze_selfie(
    engine: FaceEngine, data: bytes, *, max_faces: int, profile: SelfieProfile | None = None
) -> ImageAnalysis:
    """`prepare_selfie` with every face embedded (evaluations, tools, tests)."""
    profile = profile if profile is not None else SelfieProfile()
    prepared = prepare_selfie(engine, data, max_faces=max_faces, profile=profile)
    if not prepared.crops:
        return prepared.analysis
    clock = StageClock(profile)
    embeddings = engine.embed_faces(prepared.crops)
    clock.lap("embed")
    faces = tuple(
        dataclasses.replace(face, embedding=embedding)
        for face, embedding in zip(prepared.analysis.faces, embeddings, strict=True)
    )
    return dataclasses.replace(prepared.analysis, faces=faces)
