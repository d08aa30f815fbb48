"""Thumbnails of a photo ('thumb' ~320 px and 'large' ~1600 px JPEG) and its EXIF capture time."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

from PIL import Image

from facepass.engine.imaging import decode, open_image
from facepass.photos.storage import THUMBNAIL_SIDES, ThumbnailSize

JPEG_QUALITY = 85
LARGE_SIDE_TOLERANCE = 0.9  # 'large' is ~1600 px: from 1440 to 1600 on its longer side
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_DATETIME = 0x0132


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def make_thumbnails(data: bytes, decoded: Image.Image | None = None) -> dict[ThumbnailSize, bytes]:
    """JPEG thumbnails of an original, EXIF-oriented, longer side at most each size's side.

    `decoded` is an upright decode the caller already made (the engine's, for detection): used
    when it is already of 'large' size, it saves decoding the original a second time.
    """
    side = THUMBNAIL_SIDES["large"]
    min_side = round(side * LARGE_SIDE_TOLERANCE)
    # Only a decode already of 'large' size is reused: shrinking a bigger one (say 3000 px, made
    # for small faces' crops) costs twice what libjpeg's draft decode of the original does.
    if decoded is not None and min_side <= max(decoded.size) <= side:
        large = decoded.copy()
    else:
        # libjpeg's draft mode decodes at 1/2, 1/4 or 1/8 scale for a fraction of the cost.
        # Accepting a 'large' of 90 % of its nominal side lets a 24 MP photo (6000 px) decode
        # straight to 1500 px with no resize at all. The original is never modified.
        large = decode(open_image(data), max_side=min_side)
    # Anything still bigger is reduced with bicubic (half Lanczos' cost, the same look here).
    if max(large.size) > side:
        large.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=3.0)
    small = large.copy()
    small.thumbnail((THUMBNAIL_SIDES["thumb"],) * 2, Image.Resampling.BICUBIC, reducing_gap=3.0)
    return {"large": _jpeg(large), "thumb": _jpeg(small)}


def _parse_offset(value: object) -> timezone | None:
    if not isinstance(value, str) or len(value) < 6 or value[0] not in "+-":
        return None
    try:
        hours, minutes = int(value[1:3]), int(value[4:6])
    except ValueError:
        return None
    sign = -1 if value[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def captured_at(data: bytes) -> datetime | None:
    """When the camera took the photo (EXIF DateTimeOriginal), or None if unknown.

    Cameras record local time; with no EXIF offset the time is stored as if it were UTC.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            detail = exif.get_ifd(_EXIF_IFD)
            raw = detail.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
            offset = _parse_offset(detail.get(_OFFSET_TIME_ORIGINAL))
    except Exception:
        return None
    if not isinstance(raw, str):
        return None
    try:
        taken = datetime.strptime(raw.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    return taken.replace(tzinfo=offset or UTC)
