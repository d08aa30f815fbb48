"""Reading selfies from a multipart request into memory, and nowhere else.

Starlette's form parser spools any file over 1 MB to a temporary file on disk; a guest's face
must never touch the disk, so the body goes through the shared streaming reader
(`facepass.http.multipart`), each `selfie` part kept in a bytes buffer under a size cap, and
every other field discarded unread. A selfie counts only once its part's closing boundary came.
"""

from __future__ import annotations

import io
import threading
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from facepass.engine.errors import ImageError
from facepass.engine.imaging import open_image
from facepass.errors import FacePassError, UnprocessableInput
from facepass.http.multipart import PartInfo, multipart_boundary, read_multipart

SELFIE_FIELD = "selfie"
CONSENT_FIELD = "consent_version"  # the version of the consent text the guest agreed to
CHALLENGE_FIELD = "challenge_id"  # the live-selfie challenge the pair answers (guest/challenge.py)
_MAX_CONSENT_CHARS = 64
_FORM_OVERHEAD_BYTES = 64 * 1024  # boundaries, part headers and small fields
_EXTRA_PARTS = 8  # small fields a client may send beside its selfies
_MAX_FIELD_BYTES = 200  # a small text field kept beside the selfies (e.g. consent_version)


class SelfieTooLarge(FacePassError):
    status_code = 413
    code = "SELFIE_TOO_LARGE"


@dataclass(frozen=True, slots=True)
class Selfie:
    """One uploaded selfie, in memory."""

    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class SearchForm:
    """A search request's selfies and the version of the consent the guest gave, if any."""

    selfies: list[Selfie]
    consent_version: str | None
    challenge_id: str | None = None  # a live pair's challenge, when the page sent one


class _SelfieCollector:
    """The reader's PartHandler: keep `selfie` parts (bounded) and the small text fields
    asked for, drop the rest."""

    def __init__(self, max_count: int, max_bytes: int, fields: Collection[str] = ()) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self.selfies: list[Selfie] = []
        self.wanted_fields = frozenset(fields)
        self.fields: dict[str, str] = {}
        self._field: str | None = None
        self._buffer: bytearray | None = None
        self._content_type = ""

    def on_part(self, part: PartInfo) -> bool:
        if part.name in self.wanted_fields and part.filename is None:
            self._field = part.name
            self._buffer = bytearray()
            return True
        if part.name != SELFIE_FIELD:
            return False  # not a selfie: its data is skipped
        if len(self.selfies) >= self.max_count:
            raise UnprocessableInput(
                f"At most {self.max_count} selfies per search.", code="TOO_MANY_SELFIES"
            )
        self._buffer = bytearray()
        self._content_type = part.content_type or "application/octet-stream"
        return True

    def on_data(self, data: bytes) -> None:
        assert self._buffer is not None  # the reader sends data of wanted parts only
        if self._field is not None:
            if len(self._buffer) + len(data) > _MAX_FIELD_BYTES:
                raise UnprocessableInput(
                    f"The field '{self._field}' is too long.", code="FIELD_TOO_LONG"
                )
        elif len(self._buffer) + len(data) > self.max_bytes:
            raise SelfieTooLarge(f"A selfie may be at most {self.max_bytes // (1024 * 1024)} MB.")
        self._buffer += data

    def on_part_end(self) -> None:
        assert self._buffer is not None
        if self._field is not None:
            self.fields[self._field] = self._buffer.decode("utf-8", "replace").strip()
            self._buffer = self._field = None
            return
        self.selfies.append(Selfie(bytes(self._buffer), self._content_type))
        self._buffer = None


async def _capped(
    stream: AsyncIterator[bytes], limit: int, too_large: FacePassError
) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise too_large
        yield chunk


WORKING_SIDE = 1024  # a selfie's longer side as the engine sees it: what the page sends
# Large selfies decoded at once: each may take ~75 MB (24 MP of RGB) for a moment.
_LARGE_DECODES = threading.BoundedSemaphore(2)


def _reduced(image: Image.Image) -> Selfie:
    """The selfie decoded once, shrunk to WORKING_SIDE, oriented, and sent on as JPEG."""
    with _LARGE_DECODES:
        image.draft("RGB", (WORKING_SIDE, WORKING_SIDE))  # JPEG decodes at 1/2..1/8 scale
        image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS)
    small = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    (small if small.mode == "RGB" else small.convert("RGB")).save(out, "JPEG", quality=95)
    return Selfie(out.getvalue(), "image/jpeg")


def prepare_selfies(selfies: list[Selfie], max_pixels: int) -> list[Selfie]:
    """Refuse a selfie whose header declares more than max_pixels, before it is decoded, and
    hand the engine large ones at WORKING_SIDE.

    A one-colour PNG of 88 MP compresses to 86 KB; decoded it is 265 MB of RGB. The page sends
    1024-pixel selfies, so a few megapixels is all a search ever needs: a larger selfie is
    decoded once here and passed on small, so no stage after this one (detection, the
    runtime's buffers) ever grows to a hostile image's size. Other faults of an image are left
    to the engine, which skips such a selfie with its own code.
    """
    prepared = []
    for selfie in selfies:
        try:
            image = open_image(selfie.data, max_pixels=max_pixels)
        except ImageError as exc:
            if exc.code == "IMAGE_TOO_LARGE":
                raise UnprocessableInput(exc.detail, code="IMAGE_TOO_LARGE") from None
            prepared.append(selfie)
            continue
        with image:
            if max(image.size) <= WORKING_SIDE:
                prepared.append(selfie)
                continue
            try:
                prepared.append(_reduced(image))
            except (OSError, ValueError, SyntaxError):
                prepared.append(selfie)  # damaged: the engine says so with its own code
    return prepared


async def read_selfies(
    request: Request, *, max_count: int, max_bytes: int, max_pixels: int
) -> list[Selfie]:
    """The request's `selfie` parts (1 to max_count), each at most max_bytes and max_pixels,
    all in memory."""
    selfies, _ = await read_selfie_form(
        request, max_count=max_count, max_bytes=max_bytes, max_pixels=max_pixels
    )
    return selfies


async def read_selfie_form(
    request: Request,
    *,
    max_count: int,
    max_bytes: int,
    max_pixels: int,
    fields: Collection[str] = (),
) -> tuple[list[Selfie], dict[str, str]]:
    """The selfies, as `read_selfies`, and the small text `fields` asked for (when sent)."""
    boundary = multipart_boundary(request.headers.get("content-type"))
    if boundary is None:
        raise UnprocessableInput(
            "Send the selfie as multipart/form-data in a field named 'selfie'.",
            code="SELFIE_REQUIRED",
        )
    limit = max_count * max_bytes + _FORM_OVERHEAD_BYTES
    too_large = SelfieTooLarge(f"A search may send at most {limit // (1024 * 1024)} MB.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    collector = _SelfieCollector(max_count, max_bytes, fields)
    await read_multipart(
        boundary,
        _capped(request.stream(), limit, too_large),
        collector,
        max_parts=max_count + _EXTRA_PARTS,
    )
    if not collector.selfies:
        raise UnprocessableInput(
            "No selfie received: send an image in the field 'selfie'.", code="SELFIE_REQUIRED"
        )
    selfies = await run_in_threadpool(prepare_selfies, collector.selfies, max_pixels)
    return selfies, collector.fields


async def read_search_form(
    request: Request, *, max_count: int, max_bytes: int, max_pixels: int
) -> SearchForm:
    """The selfies (as `read_selfies`) and the `consent_version` field of a search."""
    selfies, fields = await read_selfie_form(
        request,
        max_count=max_count,
        max_bytes=max_bytes,
        max_pixels=max_pixels,
        fields=(CONSENT_FIELD, CHALLENGE_FIELD),
    )
    consent = fields.get(CONSENT_FIELD) or None
    if consent is not None and (len(consent) > _MAX_CONSENT_CHARS or not consent.isprintable()):
        raise UnprocessableInput(
            f"{CONSENT_FIELD} must be a short version label.", code="INVALID_CONSENT"
        )
    return SearchForm(selfies, consent, fields.get(CHALLENGE_FIELD) or None)


# The form's OpenAPI request body (the search adds its consent field to a copy).
MULTIPART_SELFIES: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [SELFIE_FIELD],
                    "properties": {
                        SELFIE_FIELD: {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "minItems": 1,
                            "maxItems": 3,
                            "description": "1 to 3 selfies (repeat the field); JPEG, PNG, HEIC…",
                        },
                    },
                }
            }
        },
    }
}
