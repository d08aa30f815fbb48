"""`api_keys` and `audit_log` (migration 0005_privacy)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from sqlalchemy import BigInteger, DateTime, Identity, Text, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from facepass.db import Base

READ: Final = "read"
UPLOAD: Final = "upload"
DELETE: Final = "delete"
# Each scope includes the ones before it: a delete key may also upload and read.
SCOPES: Final = (READ, UPLOAD, DELETE)


class ApiKey(Base):
    """A studio's API key; only its keyed hash is stored, the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    studio_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scope: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text, default="")
    key_hash: Mapped[str] = mapped_column(Text, unique=True)
    prefix: Mapped[str] = mapped_column(Text)  # the key's first characters, to recognise it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One admin action: who, on which session, how much, when. Rows are never changed."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)  # "operator", "key:<id>", "guest", "retention"
    action: Mapped[str] = mapped_column(Text)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    request_id: Mapped[str | None] = mapped_column(Text)
    # The chain (migration 0010), written by the database's trigger, never by the application.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(Text)
    row_hash: Mapped[str | None] = mapped_column(Text)
