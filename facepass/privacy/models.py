"""`face_suppressions` (migration 0005_privacy): faces that must never be indexed again.

A suppression names a face by the photo's content (SHA-256) and the face's box in it, never by
anything of the guest's selfie, so it holds when the photo is re-indexed or uploaded again.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Integer,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from facepass.db import Base

OPT_OUT: Final = "opt_out"
REMOVAL: Final = "removal"


class RetentionMark(Base):
    """A session whose faces a retention pass purged (migration 0007_retention_marks): indexing
    writes no face for it, so a re-index or a late upload cannot bring embeddings back."""

    __tablename__ = "retention_marks"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    faces_purged_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class FaceSuppression(Base):
    """One face of one photo of a session, hidden for good."""

    __tablename__ = "face_suppressions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    photo_sha256: Mapped[str] = mapped_column(Text)
    box_left: Mapped[float] = mapped_column(Float(precision=24))
    box_top: Mapped[float] = mapped_column(Float(precision=24))
    box_right: Mapped[float] = mapped_column(Float(precision=24))
    box_bottom: Mapped[float] = mapped_column(Float(precision=24))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The removal it belongs to (migration 0008): restoring that removal lifts it.
    removal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("removals.id"))


class Removal(Base):
    """One opt-out or studio removal (migration 0008_removal_review): what it hid, by whom,
    and until when the studio may restore it. Never anything of the guest's selfie."""

    __tablename__ = "removals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(Text)  # OPT_OUT or REMOVAL
    actor: Mapped[str] = mapped_column(Text)  # "guest", "operator", "key:<id>"
    client_hash: Mapped[str | None] = mapped_column(Text)  # keyed hash of browser and address
    faces: Mapped[int] = mapped_column(Integer)
    photos: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    review_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    restored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    restored_by: Mapped[str | None] = mapped_column(Text)
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RemovedFace(Base):
    """A face row taken out of `faces` by a removal, kept until its review window closes."""

    __tablename__ = "removed_faces"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    removal_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("removals.id", ondelete="CASCADE")
    )
    photo_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("photos.id", ondelete="CASCADE"))
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    model_id: Mapped[str] = mapped_column(Text)
    box_left: Mapped[float] = mapped_column(Float(precision=24))
    box_top: Mapped[float] = mapped_column(Float(precision=24))
    box_right: Mapped[float] = mapped_column(Float(precision=24))
    box_bottom: Mapped[float] = mapped_column(Float(precision=24))
    landmarks: Mapped[list[list[float]] | None] = mapped_column(JSONB)
    detection_score: Mapped[float] = mapped_column(Float(precision=24))
    size_px: Mapped[float] = mapped_column(Float(precision=24))
    sharpness: Mapped[float] = mapped_column(Float(precision=24))
    yaw: Mapped[float] = mapped_column(Float(precision=24))
    pitch: Mapped[float] = mapped_column(Float(precision=24))
    roll: Mapped[float] = mapped_column(Float(precision=24))
    indexable: Mapped[bool] = mapped_column(Boolean)
    embedding: Mapped[Any] = mapped_column(Vector(), nullable=True)


# The columns a removed face shares with `faces` (everything but the id).
FACE_COLUMNS: Final = (
    "photo_id",
    "session_id",
    "model_id",
    "box_left",
    "box_top",
    "box_right",
    "box_bottom",
    "landmarks",
    "detection_score",
    "size_px",
    "sharpness",
    "yaw",
    "pitch",
    "roll",
    "indexable",
    "embedding",
)
