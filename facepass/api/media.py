"""Photos for guests, only through signed links: one size of one photo, or a ZIP of originals.

A link proves that a search of this session returned the photo, recently; the session must
also still have FacePass on (a studio that turns it off closes every link at once).
"""

from __future__ import annotations

import io
import re
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Annotated
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Uuid
from starlette.concurrency import run_in_threadpool

from facepass.api.dependencies import (
    OwnDbDep,
    PixoraDep,
    RateLimiterDep,
    SettingsDep,
    SignerDep,
    StorageDep,
    TokensDep,
    ValidationCacheDep,
)
from facepass.db import OwnDatabase
from facepass.errors import FacePassError, Forbidden, NotFound, UnprocessableInput, error_responses
from facepass.guest.limits import check_download_limit
from facepass.guest.signing import CROP_SHAPES, EXPIRY_STEP_S, MediaSigner, MediaSize, SignedCrop
from facepass.http.bodies import MalformedBody, parse_json, read_body
from facepass.photos.face_crops import cached_crop
from facepass.photos.storage import ObjectNotFound, PhotoStorage, thumbnail_key
from facepass.pixora.cache import ValidationCache
from facepass.pixora.database import PixoraDatabase
from facepass.pixora.validation import validate_session
from facepass.privacy.suppression import photos_with_removals_since

router = APIRouter(tags=["search"])

_CHUNK = 256 * 1024
_PHOTOS = text(
    "SELECT id, session_id, storage_key, content_type, original_filename, width "
    "FROM photos WHERE id = ANY(:ids)"
).bindparams(bindparam("ids", type_=ARRAY(Uuid())))
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/heic": ".heic",
    "image/webp": ".webp",
}


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    id: uuid.UUID
    session_id: uuid.UUID
    storage_key: str
    content_type: str
    original_filename: str
    width: int | None


def _load_photos(
    own_db: OwnDatabase, ids: list[uuid.UUID], signed_after: datetime | None = None
) -> dict[uuid.UUID, StoredPhoto]:
    """The photos; with `signed_after`, less those with a face removed since that moment (the
    link may have been made for that face, and the removal wins over every older link)."""
    with own_db.engine.connect() as conn:
        rows = conn.execute(_PHOTOS, {"ids": ids}).all()
        removed = (
            set() if signed_after is None else photos_with_removals_since(conn, ids, signed_after)
        )
    return {row.id: StoredPhoto(*row) for row in rows if row.id not in removed}


def _signed_after(signer: MediaSigner, expires_at: int) -> datetime:
    """The earliest moment a link with this expiry can have been signed."""
    return datetime.fromtimestamp(expires_at - signer.ttl_s - EXPIRY_STEP_S, UTC)


def _require_facepass_on(
    pixora: PixoraDatabase, cache: ValidationCache, session_id: uuid.UUID
) -> str:
    """The session's name, when FacePass is on for it; 403 otherwise."""
    validation = validate_session(pixora, cache, session_id, count_usage=False)
    if not validation.valid or validation.session is None:
        raise Forbidden("Search is not available for this session.", code="FACEPASS_DISABLED")
    return validation.session.name


def zip_disposition(session_name: str, day: date) -> str:
    """`attachment` named after the session and the day, with an ASCII fallback."""
    stem = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", " ", session_name).strip()
    stem = re.sub(r"\s+", "-", stem)[:80] or "photos"
    name = f"{stem}-{day.isoformat()}.zip"
    ascii_name = _SAFE_NAME.sub("_", name) if name.isascii() else f"photos-{day.isoformat()}.zip"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(_CHUNK):
            yield chunk


def _download_name(photo: StoredPhoto, position: int) -> str:
    stem = _SAFE_NAME.sub("_", photo.original_filename.rsplit("/", 1)[-1]).strip(" ._")
    if not stem:
        stem = f"photo-{position:04d}{_EXTENSIONS.get(photo.content_type, '')}"
    return stem[:120]


@router.get(
    "/media/{photo_id}/{size}",
    summary="One photo at one size, through a signed, expiring link",
    responses=error_responses(403, 404),
    response_class=StreamingResponse,
)
def media(
    signer: SignerDep,
    own_db: OwnDbDep,
    storage: StorageDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
    photo_id: Annotated[str, Path()],
    size: Annotated[
        str, Path(description="thumb, large, original; or face / cover: a crop around `box`")
    ],
    exp: Annotated[str, Query(description="Expiry (Unix time), as signed")] = "",
    sig: Annotated[str, Query(description="HMAC-SHA256 signature")] = "",
    download: Annotated[bool, Query(description="Ask the browser to save the file")] = False,
    box: Annotated[
        str, Query(description="face / cover only: the face box, as signed (left,top,right,bottom)")
    ] = "",
) -> StreamingResponse:
    """403 for a missing, wrong or expired signature; private caching until the expiry."""
    crop: SignedCrop | None = None
    if size in CROP_SHAPES:
        crop = signer.verify_crop(photo_id, size, box, exp, sig)
        claim_id, expires_at = crop.photo_id, crop.expires_at
    else:
        claim = signer.verify(photo_id, size, exp, sig)
        claim_id, expires_at = claim.photo_id, claim.expires_at
    signed_after = _signed_after(signer, expires_at)
    photo = _load_photos(own_db, [claim_id], signed_after).get(claim_id)
    if photo is None:
        raise NotFound("This photo no longer exists.", code="PHOTO_NOT_FOUND")
    _require_facepass_on(pixora, cache, photo.session_id)
    if crop is not None:
        stream, content_type = _open_crop(storage, photo, crop), "image/jpeg"
    else:
        stream, content_type = _open(storage, photo, size)  # type: ignore[arg-type]
    max_age = max(0, min(expires_at - int(time.time()), signer.ttl_s + 600))
    headers = {
        "Cache-Control": f"private, max-age={max_age}",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if download:
        name = _download_name(photo, 1)
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return StreamingResponse(_chunks(stream), media_type=content_type, headers=headers)


def _open_crop(storage: PhotoStorage, photo: StoredPhoto, crop: SignedCrop) -> IO[bytes]:
    """A face crop, made from the 'large' size on its first request and kept (face_crops)."""
    try:
        data = cached_crop(storage, photo.session_id, photo.id, photo.width, crop.shape, crop.box)
    except ObjectNotFound:
        raise NotFound("This photo is not available yet.", code="PHOTO_NOT_FOUND") from None
    return io.BytesIO(data)


def _open(storage: PhotoStorage, photo: StoredPhoto, size: MediaSize) -> tuple[IO[bytes], str]:
    try:
        if size == "original":
            return storage.open(photo.storage_key), photo.content_type
        return storage.open(thumbnail_key(photo.session_id, photo.id, size)), "image/jpeg"
    except ObjectNotFound:
        raise NotFound("This photo is not available yet.", code="PHOTO_NOT_FOUND") from None


_TOKEN_BYTES = 128  # a token is `uuid.exp.sig`: about 100 characters
_TOKEN_SCHEMA = {
    "type": "string",
    "description": "A `download_token` of a search's match",
    "pattern": r"^[0-9a-f-]{36}\.[0-9]{1,12}\.[A-Za-z0-9_-]{43}$",
}


async def _tokens(request: Request, max_tokens: int) -> list[str]:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/json", "application/x-www-form-urlencoded")):
        raise UnprocessableInput(
            "Send the download tokens of a search as a form (token=...) or JSON.",
            code="TOKENS_REQUIRED",
        )
    body = await read_body(request, max_bytes=(max_tokens + 1) * (_TOKEN_BYTES + 16) + 1024)
    if content_type.startswith("application/json"):
        parsed = parse_json(body)
        tokens = parsed.get("tokens") if isinstance(parsed, dict) else None
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise UnprocessableInput('Send {"tokens": ["..."]}.', code="TOKENS_REQUIRED")
        return tokens[: max_tokens + 1]
    try:
        fields = parse_qsl(body.decode("ascii"), max_num_fields=max_tokens + 1)
    except UnicodeDecodeError:
        raise MalformedBody("A form body must be URL-encoded ASCII.") from None
    except ValueError:
        too_many = UnprocessableInput("Too many photos in one download.", code="TOO_MANY_PHOTOS")
        raise too_many from None
    return [value for name, value in fields if name == "token"]


@router.post(
    "/api/v1/sessions/{session_id}/download",
    summary="A ZIP of originals, from the download tokens of a search",
    responses={
        200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(400, 403, 404, 413, 422, 429, 503),
    },
    response_class=StreamingResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["tokens"],
                        "properties": {
                            "tokens": {"type": "array", "items": _TOKEN_SCHEMA, "minItems": 1}
                        },
                    }
                },
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["token"],
                        "properties": {
                            "token": {"type": "array", "items": _TOKEN_SCHEMA, "minItems": 1}
                        },
                    }
                },
            },
        }
    },
)
async def download_zip(
    session_id: uuid.UUID,
    request: Request,
    signer: SignerDep,
    settings: SettingsDep,
    own_db: OwnDbDep,
    storage: StorageDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
    limiter: RateLimiterDep,
    guest_tokens: TokensDep,
) -> StreamingResponse:
    """Streams a ZIP of the photos the tokens name; every token must be valid and of this
    session. Body: form fields `token` (what the page sends) or JSON {"tokens": [...]}."""
    await check_download_limit(request, limiter, settings, guest_tokens)
    tokens = await _tokens(request, settings.search_max_results)
    if not tokens:
        raise UnprocessableInput("No photos to download.", code="TOKENS_REQUIRED")
    if len(tokens) > settings.search_max_results:
        raise UnprocessableInput("Too many photos in one download.", code="TOO_MANY_PHOTOS")
    claims = [signer.verify_token(token) for token in tokens]
    ids = list(dict.fromkeys(claim.photo_id for claim in claims))
    session_name = await run_in_threadpool(_require_facepass_on, pixora, cache, session_id)
    photos = await run_in_threadpool(_load_photos, own_db, ids)
    if any(photos.get(i) is None or photos[i].session_id != session_id for i in ids):
        # A token of another session (or of a deleted photo) never joins this archive.
        raise Forbidden("A photo in this download is not available.", code="INVALID_SIGNATURE")
    # Photos with a face removed since their token was signed are left out of the archive.
    oldest = min(claim.expires_at for claim in claims)
    kept = await run_in_threadpool(_load_photos, own_db, ids, _signed_after(signer, oldest))
    ordered = [photos[i] for i in ids if i in kept]
    if not ordered:
        raise NotFound("No photo of this download is available any more.", code="PHOTO_NOT_FOUND")
    headers = {
        "Content-Disposition": zip_disposition(session_name, datetime.now(UTC).date()),
        "Cache-Control": "no-store",
    }
    return StreamingResponse(
        _zip_stream(storage, ordered), media_type="application/zip", headers=headers
    )


class _Pipe:
    """A write-only file for zipfile whose bytes are taken away as soon as they are written."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def _zip_stream(storage: PhotoStorage, photos: list[StoredPhoto]) -> Iterator[bytes]:
    """A ZIP built while it is sent: photos are already compressed, so they are stored as-is."""
    pipe = _Pipe()
    used: set[str] = set()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
        for position, photo in enumerate(photos, start=1):
            name = _download_name(photo, position)
            while name in used:
                name = f"{position:04d}-{name}"
            used.add(name)
            try:
                source = storage.open(photo.storage_key)
            except (ObjectNotFound, FacePassError):
                continue  # deleted meanwhile: the rest still downloads
            with source, archive.open(name, "w", force_zip64=True) as entry:
                while chunk := source.read(_CHUNK):
                    entry.write(chunk)
                    yield pipe.take()
            yield pipe.take()
    yield pipe.take()
