"""Detection: CenterFace finds real faces at any photo size, with sensible landmarks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from facepass.engine import FaceEngine, cosine_distance
from facepass.engine.detectors import nms
from facepass.engine.detectors.centerface import CenterFace
from facepass.search.query import SelfieRejected, pick_query_face
from tests.engine.conftest import ASTRONAUT_FACE, box_iou, encode


def test_astronaut_face_box_and_landmarks(engine: FaceEngine, astronaut: Image.Image) -> None:
    analysis = engine.analyze(encode(astronaut, "PNG"))
    assert len(analysis.faces) == 1
    face = analysis.faces[0]
    assert box_iou(face.box.as_list(), ASTRONAUT_FACE) > 0.7
    (left_eye, right_eye, nose, left_mouth, right_mouth) = face.landmarks
    assert left_eye[0] < nose[0] < right_eye[0]
    assert left_mouth[0] < right_mouth[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(left_mouth[1], right_mouth[1])
    assert face.quality.detection_score > 0.7


@pytest.mark.parametrize("face_px", [60, 200])
def test_small_face_in_a_large_photo_is_found(
    engine: FaceEngine, astronaut: Image.Image, face_px: int
) -> None:
    # The astronaut's face is ~92 px wide in the 512 px portrait; shrink it to face_px and put
    # it in a 4500x3000 photo, where 1/50 of the shorter side is 60 px.
    scale = face_px / 92
    portrait = astronaut.resize((round(512 * scale), round(512 * scale)), Image.Resampling.LANCZOS)
    photo = Image.new("RGB", (4500, 3000), (120, 120, 110))
    photo.paste(portrait, (3100, 1700))
    analysis = engine.analyze(encode(photo, "JPEG", quality=90))
    assert len(analysis.faces) == 1
    expected = [
        3100 + ASTRONAUT_FACE[0] * scale,
        1700 + ASTRONAUT_FACE[1] * scale,
        3100 + ASTRONAUT_FACE[2] * scale,
        1700 + ASTRONAUT_FACE[3] * scale,
    ]
    assert box_iou(analysis.faces[0].box.as_list(), expected) > 0.6
    assert analysis.faces[0].embedding is not None


def test_input_scale_targets_the_smallest_wanted_face(engine: FaceEngine) -> None:
    detector = engine.detector
    assert isinstance(detector, CenterFace)
    # A 24-megapixel photo is shrunk so an 80 px face reaches the network's minimum...
    big = detector.input_scale(6000, 4000, 80)
    assert big * 80 == pytest.approx(detector.min_input_face_px)
    assert big * 6000 * big * 4000 < 1.0e6
    # ...and a small photo is enlarged, within limits.
    assert 1 < detector.input_scale(500, 375, 375 / 50) <= detector.max_upscale


def test_no_face_in_a_plain_image(engine: FaceEngine) -> None:
    rng = np.random.default_rng(1)
    noise = Image.fromarray(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8))
    assert engine.analyze(encode(noise, "PNG")).faces == ()


def test_max_faces_keeps_the_largest(engine: FaceEngine, astronaut: Image.Image) -> None:
    photo = Image.new("RGB", (1600, 800), (90, 90, 90))
    photo.paste(astronaut, (0, 150))
    photo.paste(astronaut.resize((256, 256)), (1200, 300))
    both = engine.analyze(encode(photo, "PNG"), embed=False)
    assert len(both.faces) == 2
    one = engine.analyze(encode(photo, "PNG"), embed=False, max_faces=1)
    assert len(one.faces) == 1
    assert one.faces[0].box.left < 600  # the big one
    assert both.faces[0].embedding is None


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array(
        [[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10.5]], np.float32
    )
    scores = np.array([0.8, 0.9, 0.7, 0.95], np.float32)
    assert nms(boxes, scores, 0.3).tolist() == [3, 2]


@pytest.fixture(scope="module")
def without_close_pass(engine: FaceEngine) -> FaceEngine:
    """The same models with the close pass off (what the engine was before it)."""
    return FaceEngine(
        dataclasses.replace(engine.config, close_pass_side=0), engine.detector, engine.embedder
    )


# Crops of the 512 px portrait, enlarged like a phone's close selfie: the face fills the frame
# (its box is ASTRONAUT_FACE, cut 10 px inside) or the frame's top edge cuts the forehead.
@pytest.mark.parametrize(
    ("crop", "side"),
    [((188, 74, 260, 166), 400), ((188, 74, 260, 166), 1000), ((170, 105, 280, 210), 400)],
    ids=["fills-400", "fills-1000", "cut-by-top-edge"],
)
def test_faces_filling_the_frame_or_cut_by_its_edge_are_found(
    engine: FaceEngine,
    without_close_pass: FaceEngine,
    astronaut: Image.Image,
    crop: tuple[int, int, int, int],
    side: int,
) -> None:
    tight = astronaut.crop(crop)
    selfie = encode(tight.resize((side, round(side * tight.height / tight.width))), "JPEG")
    # At the first pass's scale alone the face is barely seen: the selfie is refused...
    with pytest.raises(SelfieRejected):
        pick_query_face(without_close_pass.analyze(selfie))
    # ...the close pass finds it, indexable, as a selfie and as a session photo alike.
    after = engine.analyze(selfie)
    assert len(after.faces) == 1
    face = after.faces[0]
    assert face.quality.indexable, face.quality
    assert face.quality.detection_score > 0.6
    assert pick_query_face(after).face == face
    # The same person as the whole portrait.
    whole = engine.analyze(encode(astronaut, "PNG")).faces[0]
    assert face.embedding is not None
    assert whole.embedding is not None
    assert cosine_distance(face.embedding, whole.embedding) < engine.match_threshold


def test_close_pass_boxes_are_in_the_photo_pixels(
    engine: FaceEngine, astronaut: Image.Image
) -> None:
    # A face touching the left edge of a wide photo: the close pass's padding is taken off.
    photo = Image.new("RGB", (900, 500), (200, 190, 180))
    photo.paste(astronaut.crop((200, 40, 330, 200)).resize((260, 320)), (0, 90))
    found = engine._close_faces(photo)
    assert len(found) == 1
    # ASTRONAUT_FACE in the crop, doubled, moved to (0, 90), clipped by the edge.
    expected = [0.0, 90 + 2 * (64 - 40), 2 * (270 - 200), 90 + 2 * (176 - 40)]
    assert box_iou(found.boxes[0].tolist(), expected) > 0.7


def test_session_photos_are_searched_for_smaller_faces_than_selfies(
    engine: FaceEngine, astronaut: Image.Image
) -> None:
    # A 42 px face in a 24 MP photo: far under 1/50 of the shorter side (80 px), so a selfie's
    # analysis misses it; indexing's photo_min_face_fraction (1/80) runs the detector at 1.6x
    # the resolution (up to its 2 MP cap) and finds it.
    scale = 42 / 92
    portrait = astronaut.resize((round(512 * scale), round(512 * scale)), Image.Resampling.LANCZOS)
    photo = Image.new("RGB", (6000, 4000), (120, 120, 110))
    photo.paste(portrait, (3600, 1800))
    data = encode(photo, "JPEG", quality=90)
    fraction = engine.config.photo_min_face_fraction
    assert fraction * 4000 < 80 == engine.config.min_face_fraction * 4000
    assert engine.analyze(data).faces == ()
    (face,) = engine.analyze(data, min_face_fraction=fraction).faces
    offsets = (3600, 1800, 3600, 1800)
    expected = [o + v * scale for o, v in zip(offsets, ASTRONAUT_FACE, strict=True)]
    assert box_iou(face.box.as_list(), expected) > 0.5
