"""Large selfies reach the engine at the page's size, oriented; the allocator gives memory back."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from facepass.errors import UnprocessableInput
from facepass.guest.selfies import WORKING_SIDE, Selfie, prepare_selfies
from facepass.observability.allocator import return_large_buffers_to_the_os


def _encoded(image: Image.Image, fmt: str, orientation: int | None = None) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(out, fmt, exif=exif)
    return out.getvalue()


def test_a_large_selfie_is_shrunk_and_oriented_before_the_engine() -> None:
    wide = Image.new("RGB", (4000, 2000), (200, 30, 30))
    turned = _encoded(wide, "JPEG", orientation=6)  # camera held upright: show it rotated
    small = _encoded(Image.new("RGB", (800, 600)), "PNG")
    prepared = prepare_selfies(
        [Selfie(turned, "image/jpeg"), Selfie(small, "image/png")], 24_000_000
    )
    shrunk = Image.open(io.BytesIO(prepared[0].data))
    assert prepared[0].content_type == "image/jpeg"
    assert shrunk.size == (WORKING_SIDE // 2, WORKING_SIDE)  # portrait once oriented
    assert prepared[1].data == small  # small enough: untouched


def test_a_selfie_over_the_pixel_cap_is_refused_and_damaged_ones_pass_on() -> None:
    big = _encoded(Image.new("1", (6000, 5000)), "PNG")
    with pytest.raises(UnprocessableInput) as refused:
        prepare_selfies([Selfie(big, "image/png")], 24_000_000)
    assert refused.value.code == "IMAGE_TOO_LARGE"
    damaged = Selfie(b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")
    assert prepare_selfies([damaged], 24_000_000) == [damaged]


def test_glibc_is_told_to_return_large_buffers() -> None:
    assert return_large_buffers_to_the_os() is True  # this machine (Linux, glibc)
