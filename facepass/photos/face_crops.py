"""Crops of a photo around one face: the gallery's square thumbnail and the page's cover.

A guest's thumbnail is their own face, not the middle of a group photo: a square around the
face box that the face fills a sensible share of (2/5 of its side, with the shoulders and some
of the scene around). The cover is the same idea in a 2:1 banner with more of the scene.

Crops are made from the 'large' thumbnail (never the original) on the first request and kept
in the storage next to the other sizes, under a key that names the face box: every later
request, any guest's, is a plain read. Deleting a photo's thumbnails deletes its crops too.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from PIL import Image

from facepass.engine.imaging import open_image
from facepass.guest.signing import Box, CropShape
from facepass.photos.storage import ObjectNotFound, PhotoStorage, thumbnail_key, thumbnail_prefix


@dataclass(frozen=True, slots=True)
class Shape:
    """Output size, and how many face sides the crop's height spans."""

    width: int
    height: int
    face_sides: float  # crop height / face side: 2.5 = the face fills 40 % of it


SHAPES: dict[CropShape, Shape] = {
    "face": Shape(320, 320, 2.5),
    "cover": Shape(640, 320, 3.0),
}
# The smallest crop (in 'large' pixels) worth showing: a tiny face is zoomed, but not into mush.
MIN_CROP_SIDE_PX = 160
JPEG_QUALITY = 80


def crop_key(session_id: uuid.UUID, photo_id: uuid.UUID, shape: CropShape, box: Box) -> str:
    """Where a crop lives: with the photo's thumbnails, named by its shape and face box."""
    left, top, right, bottom = box
    return f"{thumbnail_prefix(session_id, photo_id)}{shape}-{left}-{top}-{right}-{bottom}.jpg"


def crop_region(
    box: tuple[float, float, float, float], size: tuple[int, int], shape: Shape
) -> tuple[int, int, int, int]:
    """The crop (left, top, right, bottom) of an image of `size` around the face `box` (both
    in the same pixels): the shape's aspect, centred on the face, inside the image."""
    width, height = size
    left, top, right, bottom = box
    side = max(right - left, bottom - top, 1.0)
    aspect = shape.width / shape.height
    crop_h = max(side * shape.face_sides, MIN_CROP_SIDE_PX)
    crop_w = crop_h * aspect
    # Inside the image, keeping the aspect: a face near a small photo's edge gets less scene.
    scale = min(1.0, width / crop_w, height / crop_h)
    crop_w, crop_h = crop_w * scale, crop_h * scale
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    x = min(max(centre_x - crop_w / 2, 0.0), width - crop_w)
    y = min(max(centre_y - crop_h / 2, 0.0), height - crop_h)
    return round(x), round(y), round(x + crop_w), round(y + crop_h)


def make_crop(large_jpeg: bytes, box: Box, original_width: int | None, shape: CropShape) -> bytes:
    """The crop as JPEG, from the 'large' thumbnail; `box` is in the original's pixels."""
    with open_image(large_jpeg) as opened:
        large = opened.convert("RGB")
    scale = large.width / original_width if original_width else 1.0
    scaled = (box[0] * scale, box[1] * scale, box[2] * scale, box[3] * scale)
    spec = SHAPES[shape]
    region = crop_region(scaled, large.size, spec)
    crop = large.crop(region).resize((spec.width, spec.height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def cached_crop(
    storage: PhotoStorage,
    session_id: uuid.UUID,
    photo_id: uuid.UUID,
    original_width: int | None,
    shape: CropShape,
    box: Box,
) -> bytes:
    """The crop from the storage, made and kept there on the first request.

    Raises ObjectNotFound while the photo has no 'large' thumbnail yet (not indexed)."""
    key = crop_key(session_id, photo_id, shape, box)
    try:
        return storage.get(key)
    except ObjectNotFound:
        pass
    large = storage.get(thumbnail_key(session_id, photo_id, "large"))
    data = make_crop(large, box, original_width, shape)
    storage.put(key, data, "image/jpeg")  # two guests at once write the same bytes: harmless
    return data
