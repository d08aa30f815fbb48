"""Tokens a guest's browser keeps so that the server keeps nothing per guest.

- A *results token* (signed, expiring): the session, the photos a search found and each one's
  face box. `GET /results?token=` turns it into fresh signed links, so a reload, Back, a
  language switch or tomorrow shows the gallery again without the selfie.
- A *query token* (AES-GCM encrypted, expiring): the search's face embeddings and poses, so
  "Check for new photos" can search again without a new selfie. Only the server can read it.
- A *device token* (signed, cookie-less): a random id handed out with the guest page, so rate
  limits can be per browser rather than per address (a venue's Wi-Fi is one address).

Every key is derived (HKDF) from the media signing key, one per purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from facepass.engine.types import Embedding
from facepass.errors import Forbidden

_RESULTS_VERSION = 1
_FAMILY_VERSION = 2  # "me and my family": each item also says whose face it is
_QUERY_VERSION = 1
_MAC_BYTES = 16
_RESULTS_HEAD = struct.Struct(">B16sIH")  # version, session, expiry, count
_RESULTS_ITEM = struct.Struct(">16s4H")  # photo id, face box (px, clamped to 65535)
_FAMILY_ITEM = struct.Struct(">16s4HB")  # ... and the person (0: the guest, 1.. the others)
_QUERY_HEAD = struct.Struct(">IB")  # expiry, model id length
_QUERY_FACE = struct.Struct(">ffH")  # yaw, pitch, embedding dimension
DEVICE_TOKEN_MAX_AGE_S = 30 * 24 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or len(text) > 200_000:
        raise ValueError("empty or oversized token")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from the deployment's secret."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"facepass", info=purpose.encode()
    ).derive(secret.encode())


def invalid_token(what: str) -> Forbidden:
    return Forbidden(f"This {what} is not valid; search again.", code="INVALID_TOKEN")


def expired_token(what: str) -> Forbidden:
    return Forbidden(f"This {what} has expired; search again.", code="TOKEN_EXPIRED")


@dataclass(frozen=True, slots=True)
class FoundPhoto:
    """A photo of a results token, with the box of the guest's face in it."""

    photo_id: uuid.UUID
    box: tuple[float, float, float, float]
    person: int = 0  # whose face: 0 the guest, 1.. the people they added ("me and my family")


@dataclass(frozen=True, slots=True)
class Results:
    session_id: uuid.UUID
    expires_at: int
    photos: list[FoundPhoto]


@dataclass(frozen=True, slots=True)
class QueryVector:
    """One face of a search: its embedding and pose."""

    embedding: Embedding
    yaw: float
    pitch: float


@dataclass(frozen=True, slots=True)
class Query:
    session_id: uuid.UUID
    model_id: str
    expires_at: int
    faces: list[QueryVector]


def _clamp(value: float) -> int:
    return max(0, min(65535, round(value)))


class GuestTokens:
    """Makes and reads results, query and device tokens under one deployment secret."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("an empty secret protects nothing")
        self._results_key = derive_key(secret, "results-token")
        self._device_key = derive_key(secret, "device-token")
        self._client_key = derive_key(secret, "client-hash")
        self._query_cipher = AESGCM(derive_key(secret, "query-token"))

    # ---- results ----

    def results_token(
        self, session_id: uuid.UUID, photos: Sequence[FoundPhoto], expires_at: int
    ) -> str:
        # One person's results keep the first format; several people's add a byte per item.
        family = any(photo.person for photo in photos)
        version = _FAMILY_VERSION if family else _RESULTS_VERSION
        body = bytearray(_RESULTS_HEAD.pack(version, session_id.bytes, expires_at, len(photos)))
        for photo in photos:
            box = (_clamp(v) for v in photo.box)
            if family:
                body += _FAMILY_ITEM.pack(photo.photo_id.bytes, *box, min(255, photo.person))
            else:
                body += _RESULTS_ITEM.pack(photo.photo_id.bytes, *box)
        mac = hmac.new(self._results_key, bytes(body), hashlib.sha256).digest()[:_MAC_BYTES]
        return _b64(bytes(body) + mac)

    def read_results(self, token: str, now: float | None = None) -> Results:
        """The claim of a results token; Forbidden when forged, malformed or expired."""
        try:
            raw = _unb64(token)
        except ValueError:
            raise invalid_token("results link") from None
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        expected = hmac.new(self._results_key, body, hashlib.sha256).digest()[:_MAC_BYTES]
        if len(raw) < _RESULTS_HEAD.size + _MAC_BYTES or not hmac.compare_digest(mac, expected):
            raise invalid_token("results link")
        version, session, expires_at, count = _RESULTS_HEAD.unpack_from(body)
        item = {_RESULTS_VERSION: _RESULTS_ITEM, _FAMILY_VERSION: _FAMILY_ITEM}.get(version)
        if item is None or len(body) != _RESULTS_HEAD.size + count * item.size:
            raise invalid_token("results link")
        if expires_at < (time.time() if now is None else now):
            raise expired_token("results link")
        photos = []
        for index in range(count):
            photo, *rest = item.unpack_from(body, _RESULTS_HEAD.size + index * item.size)
            person = rest[4] if version == _FAMILY_VERSION else 0
            box = (rest[0], rest[1], rest[2], rest[3])
            photos.append(FoundPhoto(uuid.UUID(bytes=photo), box, person))
        return Results(uuid.UUID(bytes=session), expires_at, photos)

    # ---- query ----

    def query_token(
        self, session_id: uuid.UUID, model_id: str, faces: Sequence[QueryVector], expires_at: int
    ) -> str:
        model = model_id.encode()[:255]
        plain = bytearray(_QUERY_HEAD.pack(expires_at, len(model)) + model)
        plain.append(len(faces))
        for face in faces:
            vector = np.asarray(face.embedding, dtype=">f4").ravel()
            plain += _QUERY_FACE.pack(face.yaw, face.pitch, vector.size) + vector.tobytes()
        nonce = secrets.token_bytes(12)
        sealed = self._query_cipher.encrypt(nonce, bytes(plain), b"fpq1" + session_id.bytes)
        return _b64(bytes([_QUERY_VERSION]) + nonce + sealed)

    def read_query(self, token: str, session_id: uuid.UUID, now: float | None = None) -> Query:
        """The faces of a query token of this session; Forbidden otherwise."""
        try:
            raw = _unb64(token)
            if raw[0] != _QUERY_VERSION:
                raise ValueError("unknown version")
            plain = self._query_cipher.decrypt(raw[1:13], raw[13:], b"fpq1" + session_id.bytes)
            expires_at, model_len = _QUERY_HEAD.unpack_from(plain)
            offset = _QUERY_HEAD.size
            model_id = plain[offset : offset + model_len].decode()
            offset += model_len
            count = plain[offset]
            offset += 1
            faces = []
            for _ in range(count):
                yaw, pitch, dim = _QUERY_FACE.unpack_from(plain, offset)
                offset += _QUERY_FACE.size
                vector = np.frombuffer(plain, dtype=">f4", count=dim, offset=offset)
                offset += 4 * dim
                faces.append(QueryVector(vector.astype(np.float32), yaw, pitch))
        except (ValueError, IndexError, InvalidTag, struct.error, UnicodeDecodeError):
            raise invalid_token("search") from None
        if not faces:
            raise invalid_token("search")
        if expires_at < (time.time() if now is None else now):
            raise expired_token("search")
        return Query(session_id, model_id, expires_at, faces)

    # ---- device ----

    def new_device_token(self, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        body = f"{_b64(secrets.token_bytes(12))}.{issued}"
        return f"{body}.{self._device_mac(body)}"

    def address_device_token(self, address: str, now: float | None = None) -> str:
        """The device token of an address that has minted its share of fresh ones: the same
        id on every reload, so a client reloading for fresh tokens meets one browser's limits."""
        issued = int(time.time() if now is None else now)
        digest = hmac.new(self._device_key, f"address|{address}".encode(), hashlib.sha256)
        body = f"a{_b64(digest.digest()[:12])}.{issued}"
        return f"{body}.{self._device_mac(body)}"

    def device_id(self, token: str | None, now: float | None = None) -> str | None:
        """The id of a genuine, recent device token; None for anything else."""
        if not token or len(token) > 128:
            return None
        device, _, rest = token.partition(".")
        issued, _, mac = rest.partition(".")
        if not issued.isdigit() or not hmac.compare_digest(
            mac.encode(), self._device_mac(f"{device}.{issued}").encode()
        ):
            return None
        if int(issued) + DEVICE_TOKEN_MAX_AGE_S < (time.time() if now is None else now):
            return None
        return device

    def client_hash(self, device: str | None, address: str) -> str:
        """A keyed hash of a guest's browser and address, for the studio's review of opt-outs:
        it tells one client's repeated opt-outs apart and identifies nobody."""
        message = f"{device or '-'}|{address}".encode()
        return hmac.new(self._client_key, message, hashlib.sha256).hexdigest()[:20]

    def _device_mac(self, body: str) -> str:
        return _b64(hmac.new(self._device_key, body.encode(), hashlib.sha256).digest()[:12])
