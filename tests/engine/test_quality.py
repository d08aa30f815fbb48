"""Quality: pose from landmarks, sharpness, and the coded reasons a face is not indexed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image, ImageFilter

from facepass.engine import EngineConfig, FaceEngine, SkipReason
from facepass.engine.alignment import DLIB_CHIP_TEMPLATE_150
from facepass.engine.quality import assess, estimate_pose, model_gates, skip_reasons
from tests.engine.conftest import encode

FRONTAL = DLIB_CHIP_TEMPLATE_150.copy()


def test_frontal_landmarks_give_a_frontal_pose() -> None:
    yaw, pitch, roll = estimate_pose(FRONTAL)
    assert abs(yaw) < 5
    assert abs(pitch) < 5
    assert abs(roll) < 3


def test_turned_and_tilted_heads() -> None:
    turned = FRONTAL.copy()
    turned[2, 0] += 40  # the nose far to the right of the eyes-mouth midline
    assert estimate_pose(turned)[0] > 55

    angle = np.radians(30)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    tilted = (FRONTAL - 75) @ rotation.T + 75
    assert estimate_pose(tilted.astype(np.float32))[2] == pytest.approx(30, abs=3)


def test_extreme_pose_and_low_confidence_are_coded() -> None:
    config = EngineConfig()
    turned = FRONTAL.copy()
    turned[2, 0] += 40
    box = np.array([0, 0, 150, 150], np.float32)
    crop = np.zeros((150, 150, 3), np.uint8)
    crop[::2] = 255  # sharp stripes
    quality = assess(0.4, box, turned, crop, config)
    assert SkipReason.EXTREME_POSE in quality.skip_reasons
    assert SkipReason.LOW_CONFIDENCE in quality.skip_reasons
    assert SkipReason.BLURRY not in quality.skip_reasons
    assert not quality.indexable
    frontal = assess(0.9, box, FRONTAL, crop, config)
    assert frontal.indexable
    assert not frontal.turned
    # A turned face alone is still indexed: its pose is information the ranking uses.
    turned_only = assess(0.9, box, turned, crop, config)
    assert turned_only.skip_reasons == (SkipReason.EXTREME_POSE,)
    assert turned_only.indexable
    assert turned_only.turned
    assert turned_only.yaw > config.max_yaw


def test_blurred_and_tiny_faces_are_found_but_not_indexable(
    engine: FaceEngine, astronaut: Image.Image
) -> None:
    sharp = engine.analyze(encode(astronaut, "PNG"), embed=False).faces[0]
    assert sharp.quality.indexable, sharp.quality

    blurred = astronaut.filter(ImageFilter.GaussianBlur(5))
    face = engine.analyze(encode(blurred, "PNG"), embed=False).faces[0]
    assert face.quality.sharpness < sharp.quality.sharpness / 4
    assert face.quality.skip_reasons == (SkipReason.BLURRY,)

    strict = FaceEngine(
        dataclasses.replace(engine.config, min_face_px=200), engine.detector, engine.embedder
    )
    small = strict.analyze(encode(astronaut, "PNG")).faces[0]
    assert SkipReason.TOO_SMALL in small.quality.skip_reasons
    assert small.embedding is not None  # callers decide what to store


def test_a_models_own_gates_apply_unless_the_configuration_sets_them(
    engine: FaceEngine, astronaut: Image.Image
) -> None:
    own = {"min_face_px": 200.0, "min_sharpness": 1.0, "not_a_gate": 5.0}
    gates = model_gates(EngineConfig(), own)
    assert (gates.min_face_px, gates.min_sharpness) == (200.0, 1.0)
    explicit = model_gates(EngineConfig(min_face_px=10.0), own)
    assert (explicit.min_face_px, explicit.min_sharpness) == (10.0, 1.0)

    strict = FaceEngine(engine.config, engine.detector, engine.embedder, quality_gates=own)
    face = strict.analyze(encode(astronaut, "PNG")).faces[0]
    assert face.quality.skip_reasons == (SkipReason.TOO_SMALL,)
    # The same measures judged again by other gates give the same reasons assess gives.
    assert skip_reasons(face.quality, engine.config) == ()
    assert skip_reasons(face.quality, strict.gates) == (SkipReason.TOO_SMALL,)
