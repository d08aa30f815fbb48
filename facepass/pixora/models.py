"""Pixora's `photo_sessions` table as an ORM model, mapped read-only by convention and by the DB.

The model uses its own declarative base so FacePass's migrations never see (or create) it.
`status` is a PostgreSQL enum whose full list of values is unknown: it is mapped as text, so
a value added to the enum tomorrow is read like any other and never raises.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class PixoraBase(DeclarativeBase):
    """Declarative base of Pixora's tables (never created or migrated by FacePass)."""


class PhotoSession(PixoraBase):
    """One Pixora photo session, as the brief describes `photo_sessions`."""

    __tablename__ = "photo_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    photographer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    studio_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Text, not Enum: an enum value FacePass has never seen must read as plain text.
    status: Mapped[str] = mapped_column(Text)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settings: Mapped[dict[str, Any] | list[Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    service_package_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    facepass_enabled: Mapped[bool] = mapped_column(Boolean)

    def is_facepass_active(self) -> bool:
        """True when guests may use FacePass on this session (the brief's one condition)."""
        return self.facepass_enabled is True

    def __repr__(self) -> str:
        return (
            f"PhotoSession(id={self.id}, status={self.status!r}, facepass={self.facepass_enabled})"
        )
