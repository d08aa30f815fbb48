"""Studio API keys: created once (the key is shown a single time), stored as a keyed hash.

A key is 32 random bytes, so a keyed SHA-256 (HMAC with FACEPASS_API_KEY_PEPPER) is enough: a
copy of the table alone, without the pepper, tells nothing, and there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from facepass.access.models import SCOPES, ApiKey
from facepass.config import Settings

KEY_PREFIX = "fpk_"
# Without a configured pepper the hash is still keyed, by a fixed label: keys stay unguessable.
_DEFAULT_PEPPER = "facepass-api-key-v1"


@dataclass(frozen=True, slots=True)
class StudioKey:
    """What a valid key grants: one studio, one scope."""

    id: uuid.UUID
    studio_id: uuid.UUID
    scope: str

    def allows(self, needed: str) -> bool:
        """Scopes are ordered: read < upload < delete."""
        return SCOPES.index(self.scope) >= SCOPES.index(needed)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A key as `facepass keys list` shows it (never the key itself)."""

    id: uuid.UUID
    studio_id: uuid.UUID
    scope: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def hash_key(settings: Settings, key: str) -> str:
    """The stored form of a key: HMAC-SHA256 with the pepper, hex."""
    pepper = (settings.api_key_pepper or _DEFAULT_PEPPER).encode()
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def create_key(
    db: Session, settings: Settings, studio_id: uuid.UUID, scope: str, name: str = ""
) -> tuple[KeyInfo, str]:
    """Store a new key; returns its description and the key (the only time it is known)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        id=uuid.uuid4(),
        studio_id=studio_id,
        scope=scope,
        name=name,
        key_hash=hash_key(settings, key),
        prefix=key[: len(KEY_PREFIX) + 6],
    )
    db.add(row)
    db.flush()
    db.refresh(row)
    return _info(row), key


def find_key(db: Session, settings: Settings, key: str) -> StudioKey | None:
    """The live key with this value, or None (unknown or revoked)."""
    row = db.execute(
        select(ApiKey.id, ApiKey.studio_id, ApiKey.scope).where(
            ApiKey.key_hash == hash_key(settings, key), ApiKey.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else StudioKey(row.id, row.studio_id, row.scope)


def list_keys(db: Session, studio_id: uuid.UUID | None = None) -> list[KeyInfo]:
    """Every key (or a studio's), oldest first."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if studio_id is not None:
        query = query.where(ApiKey.studio_id == studio_id)
    return [_info(row) for row in db.scalars(query)]


def revoke_key(db: Session, key_id: uuid.UUID) -> KeyInfo | None:
    """Revoke a key at once (idempotent); None when no such key exists."""
    db.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=datetime.now().astimezone())
    )
    row = db.get(ApiKey, key_id, populate_existing=True)
    return None if row is None else _info(row)


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(
        row.id, row.studio_id, row.scope, row.name, row.prefix, row.created_at, row.revoked_at
    )
