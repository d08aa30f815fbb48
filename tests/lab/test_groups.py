"""The group-photo protocol: every photo of a person used once, 10 people to a photo, widths
dealt evenly, built deterministically; each placed face followed through the pipeline."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facepass.engine import Box, DetectedFace, EngineConfig, FaceEngine, FaceQuality, ImageAnalysis
from facepass.engine.types import SkipReason
from facepass.lab.eval import groups

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_cfp = pytest.mark.skipif(
    not (DATA / "cfp").is_dir(), reason="../shared/data/cfp is needed (../shared/data/README.md)"
)


@needs_cfp
def test_plan_uses_each_photo_once_ten_people_to_a_photo_widths_even() -> None:
    plan = groups.plan(DATA, "test", seed=0)
    faces = [face for photo in plan for face in photo]
    assert len(plan) == 130
    assert all(len(photo) == 10 for photo in plan)
    assert all(len({person for person, *_ in photo}) == 10 for photo in plan)
    sources = [source for _, _, source, _ in faces]
    assert len(sources) == len(set(sources)) == 100 * 13  # 9 frontal + 4 profile each
    assert not any(s.parent.name == "frontal" and s.name == "01.jpg" for s in sources)
    widths = Counter((kind, width) for _, kind, _, width in faces)
    assert widths == {
        **{("frontal", w): 180 for w in groups.WIDTHS},
        **{("profile", w): 80 for w in groups.WIDTHS},
    }
    assert groups.plan(DATA, "test", seed=0) == plan
    assert groups.plan(DATA, "test", seed=1) != plan
    tune_people = {person for photo in groups.plan(DATA, "tune", 0) for person, *_ in photo}
    assert not tune_people & {person for person, *_ in faces}


@needs_cfp
def test_compose_puts_each_face_at_its_planned_width(tmp_path: Path) -> None:
    engine = FaceEngine.load(EngineConfig())
    photo = groups.plan(DATA, "test", seed=0)[0]
    big = [(person, kind, source, 96) for person, kind, source, _ in photo]
    made = groups.compose(engine, big, tmp_path / "group.jpg", np.random.default_rng(0))
    with Image.open(made.path) as image:
        assert (image.format, image.size) == ("JPEG", groups.CANVAS)
    assert [round(f.box[2] - f.box[0]) for f in made.faces] == [96] * 10
    found = engine.analyze(made.path.read_bytes()).faces
    # Every frontal face of 96 px is where the manifest says (profiles may go undetected).
    for placed in made.faces:
        if placed.kind == "frontal":
            assert max(groups._iou(placed.box, f.box.as_list()) for f in found) > 0.5


class _Cache:
    """An analysis cache answering made-up analyses of made-up group photos."""

    def __init__(self, analyses: dict[Path, ImageAnalysis]) -> None:
        self._analyses = analyses

    def analysis(self, path: Path) -> ImageAnalysis:
        return self._analyses[path]


def _face(box: tuple[float, float, float, float], *reasons: SkipReason) -> DetectedFace:
    quality = FaceQuality(0.9, box[2] - box[0], 50.0, 0.0, 0.0, 0.0, reasons)
    return DetectedFace(Box(*box), (), quality, np.ones(4, np.float32))


def test_stages_tell_missed_dropped_and_indexed_faces_apart() -> None:
    placed = (
        groups.PlacedFace("a", "a.jpg", "frontal", 24, (0, 0, 24, 30)),
        groups.PlacedFace("b", "b.jpg", "frontal", 48, (100, 100, 148, 160)),
        groups.PlacedFace("c", "c.jpg", "profile", 96, (300, 300, 396, 420)),
    )
    photo = groups.GroupPhoto(Path("g.jpg"), placed)
    analysis = ImageAnalysis(
        3000,
        2000,
        (
            _face((101, 99, 147, 158), SkipReason.LOW_CONFIDENCE),
            _face((302, 305, 398, 418), SkipReason.EXTREME_POSE),  # turned: still indexed
            _face((1000, 1000, 1050, 1060)),  # nobody placed there
        ),
        "m",
    )
    stages = groups.face_stages(_Cache({photo.path: analysis}), photo)  # type: ignore[arg-type]
    assert stages == ["missed", "LOW_CONFIDENCE", "indexed"]

    ids = {uuid.uuid4(): photo}
    buckets = groups.empty_buckets()
    groups.count_stages(buckets, ids, {k: stages for k in ids})
    found, correct = groups.tally_search(buckets, "c", list(ids), ids, {k: stages for k in ids})
    assert (found, correct) == (1, 1)
    report = groups.by_width(buckets)
    assert report["profile"]["96"]["recall"] == 1.0
    assert report["frontal"]["48"]["dropped_by"] == {"LOW_CONFIDENCE": 1}
    assert report["frontal"]["24"]["detected"] == 0.0
