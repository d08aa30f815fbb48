"""FacePass's own tables for photos and their faces (the shared schema; migration 0002).

The database is the source of truth for indexing work: a photo's `status` says what remains
to be done, and a queue message is only a nudge. Faces carry the id of the model that embedded
them, so several models can coexist while a session is re-indexed; searches read only the
faces of `SessionIndex.active_model_id`, filtering on `faces.session_id` and `faces.model_id`
(never on `photos.status`, which goes back to 'pending' while a re-index rebuilds a photo).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from facepass.db import Base

PENDING: Final = "pending"
INDEXING: Final = "indexing"
INDEXED: Final = "indexed"
FAILED: Final = "failed"
PHOTO_STATUSES: Final = (PENDING, INDEXING, INDEXED, FAILED)


class Photo(Base):
    """One uploaded original of a session, and where its indexing stands."""

    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("session_id", "sha256", name="uq_photos_session_id_sha256"),
        CheckConstraint("status IN ('pending', 'indexing', 'indexed', 'failed')", name="status"),
        Index("ix_photos_session_id_status", "session_id", "status"),
        # The reconciler's scan: unfinished photos by age.
        Index(
            "ix_photos_unfinished",
            "status",
            "updated_at",
            postgresql_where=text("status IN ('pending', 'indexing')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    sha256: Mapped[str] = mapped_column(Text)
    original_filename: Mapped[str] = mapped_column(Text)
    storage_key: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, default=PENDING, server_default=PENDING)
    failure_code: Mapped[str | None] = mapped_column(Text)
    failure_detail: Mapped[str | None] = mapped_column(Text)
    model_id: Mapped[str | None] = mapped_column(Text)  # model of the latest finished pass
    face_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Incremented by every claim; the claim's value is the token that lets only the latest
    # claimant finish the photo (a status compare-and-set).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worker_id: Mapped[str | None] = mapped_column(Text)  # who holds it while 'indexing'
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Face(Base):
    """One face found in a photo by one model; `embedding` has that model's dimension."""

    __tablename__ = "faces"
    __table_args__ = (
        Index("ix_faces_session_id_model_id", "session_id", "model_id"),
        Index("ix_faces_photo_id_model_id", "photo_id", "model_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
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


class SessionIndex(Base):
    """Which model's faces a session's searches use, and which model is being built."""

    __tablename__ = "session_indexes"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    active_model_id: Mapped[str] = mapped_column(Text)
    building_model_id: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class IndexingWorker(Base):
    """A live indexing worker process; the reconciler trusts its claims while it beats."""

    __tablename__ = "indexing_workers"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    hostname: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    model_id: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    heartbeat_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
