"""Usage per session per UTC day: `session_usage_daily` (0003), `consent_usage_daily` (0006)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, Date, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from facepass.db import Base


class SessionUsageDaily(Base):
    """Validations and selfie searches of one session on one UTC day."""

    __tablename__ = "session_usage_daily"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    validations: Mapped[int] = mapped_column(BigInteger, server_default="0")
    searches: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # Opt-outs that matched no face (migration 0008): counted, never stored one by one.
    opt_outs_unmatched: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ConsentUsageDaily(Base):
    """Selfie searches of one session on one UTC day, per version of the consent given.

    `consent_version` is the guest page's consent text version, or CLIENT_CONSENT for searches
    whose client collected consent itself (no `consent_version` field). No identities."""

    __tablename__ = "consent_usage_daily"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    consent_version: Mapped[str] = mapped_column(Text, primary_key=True)
    searches: Mapped[int] = mapped_column(BigInteger, server_default="0")
