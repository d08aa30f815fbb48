"""A studio's sessions from Pixora, newest first (read-only; the studio console's events list)."""

from __future__ import annotations

import uuid

from sqlalchemy import Text, cast, func, select

from facepass.pixora.database import PixoraDatabase
from facepass.pixora.errors import pixora_errors
from facepass.pixora.models import PhotoSession
from facepass.pixora.schemas import SessionInfo

_table = PhotoSession.__table__


def studio_sessions(
    pixora: PixoraDatabase, studio_id: uuid.UUID | None, *, limit: int, offset: int
) -> tuple[list[SessionInfo], int]:
    """One page of a studio's sessions (every studio's when `studio_id` is None), and the
    total; newest first (created_at, then id)."""
    columns = (
        _table.c.id,
        _table.c.name,
        _table.c.studio_id,
        _table.c.facepass_enabled,
        _table.c.photographer_id,
        cast(_table.c.status, Text).label("status"),
        _table.c.created_at,
        _table.c.updated_at,
        func.count().over().label("total"),
    )
    query = select(*columns)
    if studio_id is not None:
        query = query.where(_table.c.studio_id == studio_id)
    query = query.order_by(_table.c.created_at.desc(), _table.c.id).limit(limit).offset(offset)
    with pixora_errors(), pixora.engine.connect() as conn:
        rows = conn.execute(query).all()
        total = int(rows[0].total) if rows else 0
        if not rows and offset:
            counted = select(func.count()).select_from(_table)
            if studio_id is not None:
                counted = counted.where(_table.c.studio_id == studio_id)
            total = int(conn.execute(counted).scalar_one())
    fields = SessionInfo.model_fields
    sessions = [
        SessionInfo.model_validate({k: v for k, v in row._mapping.items() if k in fields})
        for row in rows
    ]
    return sessions, total
