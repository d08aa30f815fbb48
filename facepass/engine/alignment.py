"""Aligning a face from its 5 landmarks: a similarity transform onto a model's template."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from PIL import Image

FloatArray = npt.NDArray[np.float32]
UInt8Array = npt.NDArray[np.uint8]

# The standard ArcFace/InsightFace template for 112x112 crops (eyes, nose tip, mouth corners).
ARCFACE_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)

# Where CenterFace's 5 landmarks fall in dlib's 150x150 face chips (padding 0.25), measured by
# running CenterFace on chips that dlib's own detector + 5-point predictor + get_face_chip made
# (85 faces of dlib's johns set and face_recognition's examples; per-point std 2-5 px).
DLIB_CHIP_TEMPLATE_150 = np.array(
    [[44.60, 47.97], [99.70, 45.92], [71.59, 75.85], [50.53, 101.96], [97.05, 100.03]],
    dtype=np.float32,
)


def estimate_similarity(src: FloatArray, dst: FloatArray) -> npt.NDArray[np.float64]:
    """2x3 matrix of the least-squares similarity (Umeyama 1991) taking src points onto dst."""
    src64 = src.astype(np.float64)
    dst64 = dst.astype(np.float64)
    src_mean, dst_mean = src64.mean(axis=0), dst64.mean(axis=0)
    src_c, dst_c = src64 - src_mean, dst64 - dst_mean
    covariance = dst_c.T @ src_c / len(src64)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rotation = u @ np.diag(sign) @ vt
    variance = src_c.var(axis=0).sum()
    scale = float((singular * sign).sum() / variance) if variance > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - matrix[:, :2] @ src_mean
    return matrix


def warp_face(
    image: Image.Image, landmarks: FloatArray, template: FloatArray, size: int
) -> UInt8Array:
    """An aligned size x size RGB crop: landmarks land on the template (bilinear, anti-aliased)."""
    return warp(image, estimate_similarity(landmarks, template), size)


def warp(image: Image.Image, matrix: npt.NDArray[np.float64], size: int) -> UInt8Array:
    """The size x size crop that the 2x3 similarity `matrix` (image -> crop) describes."""
    scale = math.hypot(matrix[0, 0], matrix[1, 0])
    inverse = _invert(matrix)
    # The chip's corners in the source: crop there first so we never touch the whole photo.
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64)
    source_corners = corners @ inverse.T
    left, top = np.floor(source_corners.min(axis=0)).astype(int) - 1
    right, bottom = np.ceil(source_corners.max(axis=0)).astype(int) + 1
    crop = image.crop((int(left), int(top), int(right), int(bottom)))
    offset = np.array([left, top], np.float64)
    # Shrink big faces by an integer box filter first: bilinear alone would alias.
    reduce = max(1, int(1.0 / scale)) if scale < 0.5 else 1
    if reduce > 1:
        crop = crop.reduce(reduce)
    to_crop = inverse.copy()
    to_crop[:, 2] -= offset
    to_crop /= reduce
    # Templates (ArcFace's, dlib's) put pixel centres at integers; Pillow at +0.5.
    to_crop[:, 2] += 0.5 - 0.5 * to_crop[:, :2].sum(axis=1)
    coefficients = tuple(float(v) for v in to_crop.reshape(-1))
    chip = crop.transform(
        (size, size), Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR
    )
    return np.asarray(chip, dtype=np.uint8)


def _invert(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def dlib_chip_matrix(
    rect: tuple[float, float, float, float], angle: float, size: int
) -> npt.NDArray[np.float64]:
    """The image -> chip similarity of a dlib chip_details (rect l, t, r, b; angle in radians):
    dlib rotates the rect about its centre, then maps its corners onto the chip's corners."""
    left, top, right, bottom = rect
    centre = np.array([(left + right) / 2, (top + bottom) / 2])
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    rotation = np.array([[cos_a, -sin_a], [sin_a, cos_a]])
    corners = np.array([[left, top], [right, top], [right, bottom]]) - centre
    source = corners @ rotation.T + centre
    target = np.array([[0, 0], [size - 1, 0], [size - 1, size - 1]], np.float64)
    return estimate_similarity(source.astype(np.float32), target.astype(np.float32))
