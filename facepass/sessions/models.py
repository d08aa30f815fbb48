"""`session_usage_daily`: how much FacePass each session used, per UTC day (migration 0003)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, Date, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from facepass.db import Base


class SessionUsageDaily(Base):
    """Validations and selfie searches of one session on one UTC day."""

    __tablename__ = "session_usage_daily"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    validations: Mapped[int] = mapped_column(BigInteger, server_default="0")
    searches: Mapped[int] = mapped_column(BigInteger, server_default="0")
