"""Decoding what studios upload into RGB pixels: any common format, EXIF-oriented, size-checked."""

from __future__ import annotations

import io
import logging

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from facepass.engine.errors import ImageError

logger = logging.getLogger(__name__)

# Pillow's own bomb threshold (about 89 megapixels) covers every camera a studio uses (a 61 MP
# full frame); anything larger is a decompression bomb or a panorama we do not index.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
MAX_SIDE = 30_000
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "HEIF", "AVIF", "MPO", "TIFF", "BMP", "GIF"})

_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener  # type: ignore[import-untyped,unused-ignore]

        register_heif_opener()
        _heif_registered = True


def open_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open (not decode) an upload and check its declared size; raises ImageError.

    `max_pixels` lowers the cap for callers that never need large images (selfies): the
    check reads the header only, so an oversized image is refused before a byte is decoded.
    """
    if not data:
        raise ImageError("EMPTY_FILE", "The file is empty.")
    _register_heif()
    try:
        image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("IMAGE_TOO_LARGE", f"The image is too large to process: {exc}") from exc
    except UnidentifiedImageError as exc:
        # Pillow says "unidentified" both for a document and for a JPEG whose first segments
        # are garbage (its plugin gives up while parsing them); the studio needs to hear
        # which: a file that starts as a supported image is a broken photo, not a wrong type.
        started_as = signature_format(data)
        if started_as is not None:
            raise ImageError(
                "CORRUPT_IMAGE", f"The file starts as a {started_as} image but cannot be read."
            ) from exc
        raise ImageError(
            "UNSUPPORTED_FORMAT", "The file is not an image in a supported format."
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError("CORRUPT_IMAGE", f"The image cannot be read: {exc}") from exc
    if image.format not in ALLOWED_FORMATS:
        raise ImageError(
            "UNSUPPORTED_FORMAT", f"Images in {image.format} format are not supported."
        )
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageError("CORRUPT_IMAGE", "The image has no pixels.")
    max_pixels = min(max_pixels, MAX_PIXELS)
    if width * height > max_pixels or max(width, height) > MAX_SIDE:
        raise ImageError(
            "IMAGE_TOO_LARGE",
            f"The image is {width}x{height} pixels; at most {max_pixels // 1_000_000} megapixels "
            f"and {MAX_SIDE} pixels a side are accepted.",
        )
    return image


# The leading bytes ("magic numbers") of the formats in ALLOWED_FORMATS.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
# ISO base media brands of HEIF and AVIF files (the box type "ftyp" sits at byte 4).
_FTYP_BRANDS = {
    b"heic": "HEIF",
    b"heix": "HEIF",
    b"heim": "HEIF",
    b"heis": "HEIF",
    b"hevc": "HEIF",
    b"hevx": "HEIF",
    b"mif1": "HEIF",
    b"msf1": "HEIF",
    b"avif": "AVIF",
    b"avis": "AVIF",
}


def signature_format(data: bytes) -> str | None:
    """The supported format whose signature the bytes start with, if any (nothing decoded)."""
    for prefix, name in _SIGNATURES:
        if data.startswith(prefix):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(data[8:12])
    return None


def oriented_size(image: Image.Image) -> tuple[int, int]:
    """Width and height once the EXIF orientation is applied, without decoding."""
    width, height = image.size
    return (height, width) if _orientation(image) in (5, 6, 7, 8) else (width, height)


def decode(image: Image.Image, *, max_side: int | None = None) -> Image.Image:
    """Decode an opened image to 8-bit RGB, EXIF-oriented, reduced so its longer side >= max_side.

    For JPEG, `draft` lets libjpeg decode at 1/2, 1/4 or 1/8 scale, which is far cheaper than
    decoding every pixel and resizing; the result is never smaller than max_side on its longer
    side (unless the original is), so callers resize the rest of the way themselves.
    """
    try:
        if max_side is not None and image.format in ("JPEG", "MPO"):
            width, height = image.size
            longer = max(width, height)
            if longer > max_side:
                factor = max_side / longer
                image.draft("RGB", (max(1, int(width * factor)), max(1, int(height * factor))))
        image.load()
        oriented = image
        if _orientation(image) != 1:
            # Pillow's own transposition, as the selfie form's (facepass.guest.selfies); a new
            # image, so the caller's keeps its EXIF (capture time) as it was.
            oriented = ImageOps.exif_transpose(image)
        rgb = _to_rgb(oriented)
    except ImageError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError("CORRUPT_IMAGE", f"The image cannot be decoded: {exc}") from exc
    return rgb


def _orientation(image: Image.Image) -> int:
    value = image.getexif().get(0x0112, 1)
    return value if isinstance(value, int) else 1


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any mode (CMYK, 16-bit, palette, alpha) to RGB; alpha is composed onto white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        pixels: npt.NDArray[np.float64] = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or pixels.max() > 255 else 255.0
        grey = Image.fromarray(np.clip(pixels * (255.0 / top), 0, 255).astype(np.uint8), "L")
        converted = grey.convert("RGB")
    elif image.mode == "F":
        pixels = np.asarray(image, dtype=np.float64)
        top = 1.0 if pixels.max() <= 1.0 else 255.0
        grey = Image.fromarray(np.clip(pixels * (255.0 / top), 0, 255).astype(np.uint8), "L")
        converted = grey.convert("RGB")
    elif image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        converted = Image.alpha_composite(background, rgba).convert("RGB")
    else:
        converted = image.convert("RGB")
    return converted


def load_image(data: bytes, *, max_side: int | None = None) -> Image.Image:
    """Decode upload bytes to an RGB image with EXIF orientation applied; raises ImageError.

    With max_side, large JPEGs decode at reduced size (longer side >= max_side, by libjpeg's
    1/2..1/8 steps), then are resized down to exactly max_side; other formats are resized.
    """
    image = open_image(data)
    rgb = decode(image, max_side=max_side)
    if max_side is not None and max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=None)
    return rgb
