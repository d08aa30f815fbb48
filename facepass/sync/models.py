"""`session_snapshots`: the FacePass status last seen in Pixora, per session (migration 0003)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Text, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from facepass.db import Base


class SessionSnapshot(Base):
    """What the previous sync saw of one Pixora session; `present` is False once it vanished."""

    __tablename__ = "session_snapshots"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    present: Mapped[bool] = mapped_column(Boolean)
    facepass_enabled: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(Text)
    pixora_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
