"""`face_suppressions` (migration 0005_privacy): faces that must never be indexed again.

A suppression names a face by the photo's content (SHA-256) and the face's box in it, never by
anything of the guest's selfie, so it holds when the photo is re-indexed or uploaded again.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import BigInteger, DateTime, Float, Identity, Text, Uuid, func
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
