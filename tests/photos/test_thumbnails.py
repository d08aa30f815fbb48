"""Thumbnails follow EXIF orientation and never enlarge; the capture time comes from EXIF."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

from PIL import Image

from facepass.photos.thumbnails import captured_at, make_thumbnails
from facepass.photos.upload import sniff_image_type
from tests.photos.images import corrupt_jpeg, face_jpeg


def _camera_jpeg(size: tuple[int, int], orientation: int, taken: str, offset: str | None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation
    detail = exif.get_ifd(0x8769)
    detail[0x9003] = taken
    if offset:
        detail[0x9011] = offset
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_thumbnails_are_oriented_and_sized() -> None:
    rotated = _camera_jpeg((4000, 2000), 6, "2026:05:17 14:03:09", "+03:00")  # portrait shot
    thumbs = {size: Image.open(io.BytesIO(jpeg)) for size, jpeg in make_thumbnails(rotated).items()}
    assert thumbs["large"].size == (800, 1600)
    assert thumbs["thumb"].size == (160, 320)
    assert captured_at(rotated) == datetime(
        2026, 5, 17, 14, 3, 9, tzinfo=timezone(timedelta(hours=3))
    )
    no_offset = _camera_jpeg((100, 50), 1, "2026:05:17 14:03:09", None)
    assert captured_at(no_offset) == datetime(2026, 5, 17, 14, 3, 9, tzinfo=UTC)
    assert captured_at(face_jpeg()) is None
    assert captured_at(corrupt_jpeg()) is None


def test_file_types_are_told_by_their_first_bytes() -> None:
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    webp = io.BytesIO()
    Image.new("RGB", (4, 4)).save(webp, "WEBP")
    assert sniff_image_type(face_jpeg()[:64]) == "image/jpeg"
    assert sniff_image_type(png.getvalue()[:64]) == "image/png"
    assert sniff_image_type(webp.getvalue()[:64]) == "image/webp"
    assert sniff_image_type(b"\x00\x00\x00\x18ftypheic\x00\x00") == "image/heic"
    assert sniff_image_type(b"%PDF-1.7 not a photo") is None
    assert sniff_image_type(b"") is None


def test_thumbnails_reuse_a_large_enough_decode_and_ignore_a_small_one() -> None:
    from facepass.engine import load_image

    rotated = _camera_jpeg((4000, 2000), 6, "2026:05:17 14:03:09", None)
    upright = load_image(rotated, max_side=1500)
    assert upright.size == (750, 1500)  # portrait, big enough for 'large' (1440 to 1600 px)
    reused = make_thumbnails(rotated, decoded=upright)
    assert Image.open(io.BytesIO(reused["large"])).size == (750, 1500)
    assert Image.open(io.BytesIO(reused["thumb"])).size == (160, 320)
    # A decode smaller than 'large' needs is not blown up, and a bigger one is not shrunk
    # (draft-decoding the original is cheaper): both decode the original again.
    for other in (upright.resize((250, 500)), upright.resize((1500, 3000))):
        fresh = make_thumbnails(rotated, decoded=other)
        assert Image.open(io.BytesIO(fresh["large"])).size == (800, 1600)
