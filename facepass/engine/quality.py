"""Per-face quality: detection score, size, sharpness, pose, and why a face is not indexed."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from facepass.engine.config import EngineConfig
from facepass.engine.types import FaceQuality, SkipReason

FloatArray = npt.NDArray[np.float32]
UInt8Array = npt.NDArray[np.uint8]

# Face proportions behind the pose estimate: the nose tip stands about 0.8 half-eye-distances
# in front of the eyes, and sits 0.54 of the way from the eye line to the mouth line when the
# head faces the camera (CenterFace's landmarks on dlib's aligned chips).
_NOSE_DEPTH_PER_HALF_EYE = 0.8
_NOSE_DEPTH_PER_EYE_MOUTH = 0.4
_FRONTAL_NOSE_HEIGHT = 0.54


# The gates an embedder's registry entry may set for itself (`params.quality`): what a face must
# be for that model's embedding of it to be worth searching.
MODEL_GATES = ("min_face_px", "min_sharpness", "min_index_score", "max_yaw", "max_pitch")


def model_gates(config: EngineConfig, own: Mapping[str, float] | None) -> EngineConfig:
    """`config` with the embedder's own quality gates wherever `config` keeps the engine's
    default (a gate set explicitly in the configuration wins)."""
    defaults = {f.name: f.default for f in dataclasses.fields(EngineConfig)}
    chosen = {
        name: float(value)
        for name, value in (own or {}).items()
        if name in MODEL_GATES and getattr(config, name) == defaults[name]
    }
    return dataclasses.replace(config, **chosen) if chosen else config  # type: ignore[arg-type]


def estimate_pose(landmarks: FloatArray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from 5 landmarks; yaw > 0 turns towards the image's right,
    pitch > 0 looks down, roll > 0 tilts clockwise."""
    points = landmarks.astype(np.float64)
    left_eye, right_eye, nose, left_mouth, right_mouth = points
    roll = math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0])
    cos_r, sin_r = math.cos(-roll), math.sin(-roll)
    upright = points @ np.array([[cos_r, sin_r], [-sin_r, cos_r]])
    left_eye, right_eye, nose, left_mouth, right_mouth = upright
    half_width = max((right_eye[0] - left_eye[0] + right_mouth[0] - left_mouth[0]) / 4, 1e-6)
    midline = (left_eye[0] + right_eye[0] + left_mouth[0] + right_mouth[0]) / 4
    yaw = math.atan((nose[0] - midline) / half_width / _NOSE_DEPTH_PER_HALF_EYE)
    eye_y = (left_eye[1] + right_eye[1]) / 2
    mouth_y = (left_mouth[1] + right_mouth[1]) / 2
    span = mouth_y - eye_y
    if span <= 1e-6:  # mouth above the eyes: upside down or a broken detection
        pitch = math.pi / 2
    else:
        height = (nose[1] - eye_y) / span
        pitch = math.atan((height - _FRONTAL_NOSE_HEIGHT) / _NOSE_DEPTH_PER_EYE_MOUTH)
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def sharpness(crop: UInt8Array) -> float:
    """Variance of the 4-neighbour Laplacian of the grey crop (aligned, so sizes compare)."""
    grey = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    laplacian = (
        4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    )
    return float(laplacian.var())


def assess(
    score: float,
    box: FloatArray,
    landmarks: FloatArray,
    crop: UInt8Array | None,
    config: EngineConfig,
) -> FaceQuality:
    """Quality of one face (box and landmarks in original pixels) and its skip reasons."""
    size = float(min(box[2] - box[0], box[3] - box[1]))
    yaw, pitch, roll = estimate_pose(landmarks)
    sharp = sharpness(crop) if crop is not None else float("nan")
    measured = FaceQuality(float(score), size, sharp, yaw, pitch, roll)
    return dataclasses.replace(measured, skip_reasons=skip_reasons(measured, config))


def skip_reasons(quality: FaceQuality, config: EngineConfig) -> tuple[SkipReason, ...]:
    """Why a face of these measures is not indexed under `config`'s gates (a NaN sharpness,
    no crop measured, passes the blur gate)."""
    reasons: list[SkipReason] = []
    if quality.size_px < config.min_face_px:
        reasons.append(SkipReason.TOO_SMALL)
    if quality.sharpness < config.min_sharpness:
        reasons.append(SkipReason.BLURRY)
    if abs(quality.yaw) > config.max_yaw or abs(quality.pitch) > config.max_pitch:
        reasons.append(SkipReason.EXTREME_POSE)
    if quality.detection_score < config.min_index_score:
        reasons.append(SkipReason.LOW_CONFIDENCE)
    return tuple(reasons)
