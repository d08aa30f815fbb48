"""The audit log: one append-only row per admin action (PostgreSQL refuses UPDATE and DELETE)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from facepass.access.models import AuditEntry
from facepass.observability.context import current_request_id

OPERATOR = "operator"
GUEST = "guest"
RETENTION = "retention"


def key_actor(key_id: uuid.UUID) -> str:
    """The actor name of a studio key."""
    return f"key:{key_id}"


def record(
    db: Session,
    *,
    actor: str,
    action: str,
    session_id: uuid.UUID | None = None,
    counts: dict[str, Any] | None = None,
) -> None:
    """Append one row (in the caller's transaction)."""
    db.execute(
        insert(AuditEntry).values(
            actor=actor,
            action=action,
            session_id=session_id,
            counts=counts or {},
            request_id=current_request_id(),
        )
    )


def entries(
    db: Session,
    *,
    session_id: uuid.UUID | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first: id, at, actor, action, session_id, counts, request_id."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if session_id is not None:
        query = query.where(AuditEntry.session_id == session_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [
        {
            "id": row.id,
            "at": row.at.isoformat(),
            "actor": row.actor,
            "action": row.action,
            "session_id": None if row.session_id is None else str(row.session_id),
            "counts": row.counts,
            "request_id": row.request_id,
        }
        for row in db.scalars(query)
    ]
