"""A studio's selfie policy per session: `live` or `live_or_gallery`.

`live`: a search needs the camera's live pair (frontal, then turned as the challenge asks);
`live_or_gallery`: a photo from the gallery may also search. Sessions the studio never set
follow the operator's FACEPASS_SELFIE_POLICY_DEFAULT (default `live`). An opt-out always needs
a live pair, whatever the policy: removing a guest must prove the guest is there.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, Text, Uuid, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from facepass.config import Settings
from facepass.db import Base, OwnDatabase


class SelfiePolicy(StrEnum):
    LIVE = "live"
    LIVE_OR_GALLERY = "live_or_gallery"


class SessionSelfiePolicy(Base):
    """The studio's choice for one session (migration 0011)."""

    __tablename__ = "session_selfie_policy"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    policy: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def stored_policy(db: Session, session_id: uuid.UUID) -> SelfiePolicy | None:
    """The policy the studio set for the session, if any."""
    row = db.get(SessionSelfiePolicy, session_id)
    return SelfiePolicy(row.policy) if row is not None else None


def session_policy(db: Session, session_id: uuid.UUID, default: SelfiePolicy) -> SelfiePolicy:
    """The session's policy, or the operator's default when the studio set none."""
    return stored_policy(db, session_id) or default


def save_policy(db: Session, session_id: uuid.UUID, policy: SelfiePolicy) -> None:
    """Set (or replace) the session's policy."""
    statement = insert(SessionSelfiePolicy).values(session_id=session_id, policy=policy.value)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[SessionSelfiePolicy.session_id],
            set_={"policy": statement.excluded.policy, "updated_at": func.now()},
        )
    )


def policy_of(own_db: OwnDatabase, settings: Settings, session_id: uuid.UUID) -> SelfiePolicy:
    """The session's selfie policy, or FACEPASS_SELFIE_POLICY_DEFAULT (blocking)."""
    with own_db.sessions() as db:
        return session_policy(db, session_id, SelfiePolicy(settings.selfie_policy_default))
