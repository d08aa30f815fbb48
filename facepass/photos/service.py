"""Photo logic behind the routes: uploads, listing, deletion and index status."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from facepass.photos.models import SessionIndex


def active_model_id(db: Session, session_id: uuid.UUID, default: str) -> str:
    """The model whose faces a session's searches use (`default` before its first index)."""
    found = db.execute(
        select(SessionIndex.active_model_id).where(SessionIndex.session_id == session_id)
    ).scalar_one_or_none()
    return found or default
