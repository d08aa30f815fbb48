"""Signed, expiring links to photos: the only way a guest's browser ever reaches one.

A link names a photo, a size and an expiry, and carries an HMAC-SHA256 of the three under
`settings.media_signing_key`. Nothing about a photo id is guessable enough to matter, but even
a leaked id is useless without a signature, and a signature dies at its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from facepass.errors import Forbidden

MediaSize = Literal["thumb", "large", "original"]
MEDIA_SIZES: tuple[str, ...] = get_args(MediaSize)
# The crops a link may name (facepass.photos.face_crops makes them) and a face box in them.
CropShape = Literal["face", "cover"]
CROP_SHAPES: tuple[str, ...] = get_args(CropShape)
Box = tuple[int, int, int, int]
# Expiries are rounded up to this step so that two searches a minute apart hand out the same
# URLs and the browser's cache serves the second gallery.
EXPIRY_STEP_S = 300


_PIXEL = r"(0|[1-9][0-9]{0,4})"
_BOX_PATTERN = re.compile(rf"^{_PIXEL},{_PIXEL},{_PIXEL},{_PIXEL}$")  # canonical: one link


@dataclass(frozen=True, slots=True)
class SignedCrop:
    """A verified claim on a crop of a photo around one face box (original pixels)."""

    photo_id: uuid.UUID
    shape: CropShape
    box: Box
    expires_at: int


def box_text(box: Sequence[float]) -> str:
    """A face box as the link carries it: four whole pixels, clamped to 0..65535."""
    return ",".join(str(max(0, min(65535, round(v)))) for v in box)


@dataclass(frozen=True, slots=True)
class SignedMedia:
    """A verified claim: this photo, at this size, until this time."""

    photo_id: uuid.UUID
    size: MediaSize
    expires_at: int


class MediaSigner:
    """Signs and verifies (photo id, size, expiry) with one secret key."""

    def __init__(self, key: str, ttl_s: int) -> None:
        if not key:
            raise ValueError("an empty signing key signs nothing")
        self._key = key.encode()
        self.ttl_s = ttl_s

    def expiry(self, now: float | None = None) -> int:
        """The expiry of links made now: at least ttl away, at most ttl + one step."""
        moment = time.time() if now is None else now
        return int(math.ceil((moment + self.ttl_s) / EXPIRY_STEP_S) * EXPIRY_STEP_S)

    def signature(self, photo_id: uuid.UUID, size: str, expires_at: int) -> str:
        message = f"{photo_id}:{size}:{expires_at}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def media_path(self, photo_id: uuid.UUID, size: MediaSize, expires_at: int) -> str:
        """The relative URL of one photo at one size, signed until `expires_at`."""
        sig = self.signature(photo_id, size, expires_at)
        return f"/media/{photo_id}/{size}?exp={expires_at}&sig={sig}"

    def crop_path(
        self, photo_id: uuid.UUID, shape: CropShape, box: Sequence[float], expires_at: int
    ) -> str:
        """The relative URL of a crop around one face (`box` in original pixels), signed."""
        where = box_text(box)
        sig = self.signature(photo_id, f"{shape}:{where}", expires_at)
        return f"/media/{photo_id}/{shape}?box={where}&exp={expires_at}&sig={sig}"

    def verify_crop(
        self, photo_id: str, shape: str, box: str, expires_at: str, sig: str
    ) -> SignedCrop:
        """The claim of a `crop_path` link; Forbidden when forged, altered or expired."""
        match = _BOX_PATTERN.match(box)
        if shape not in CROP_SHAPES or match is None:
            raise _refused()
        values = tuple(int(v) for v in match.groups())
        left, top, right, bottom = values
        if right <= left or bottom <= top or max(values) > 65535:
            raise _refused()
        parsed_id, expiry = self._checked(photo_id, f"{shape}:{box}", expires_at, sig, None)
        return SignedCrop(parsed_id, shape, (left, top, right, bottom), expiry)  # type: ignore[arg-type]

    def token(self, photo_id: uuid.UUID, expires_at: int) -> str:
        """A compact claim on a photo's original, for the ZIP download: id.exp.sig."""
        return f"{photo_id}.{expires_at}.{self.signature(photo_id, 'original', expires_at)}"

    def verify(
        self, photo_id: str, size: str, expires_at: str | int, sig: str, now: float | None = None
    ) -> SignedMedia:
        """The claim if the signature is right and not expired; Forbidden otherwise."""
        if size not in MEDIA_SIZES:
            raise _refused()
        parsed_id, expiry = self._checked(photo_id, size, expires_at, sig, now)
        return SignedMedia(parsed_id, size, expiry)  # type: ignore[arg-type]

    def _checked(
        self, photo_id: str, signed: str, expires_at: str | int, sig: str, now: float | None
    ) -> tuple[uuid.UUID, int]:
        """The photo id and expiry of a link whose signature over `signed` is right."""
        try:
            parsed_id = uuid.UUID(photo_id)
            expiry = int(expires_at)
        except (ValueError, TypeError):
            raise _refused() from None
        # Only the forms `media_path` and `token` write: one link, one cache key, one meaning.
        if photo_id != str(parsed_id) or str(expires_at) != str(expiry) or expiry < 0:
            raise _refused()
        expected = self.signature(parsed_id, signed, expiry)
        # Compare in constant time, and only then look at the clock: a forger learns nothing.
        if not hmac.compare_digest(expected.encode(), sig.encode()):
            raise _refused()
        if expiry < (time.time() if now is None else now):
            raise Forbidden("This link has expired; search again.", code="LINK_EXPIRED")
        return parsed_id, expiry

    def verify_token(self, token: str, now: float | None = None) -> SignedMedia:
        """Verify a token made by `token()`."""
        parts = token.split(".")
        if len(parts) != 3:
            raise _refused()
        return self.verify(parts[0], "original", parts[1], parts[2], now=now)


def _refused() -> Forbidden:
    return Forbidden("This link is not valid.", code="INVALID_SIGNATURE")
