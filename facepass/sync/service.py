"""One synchronisation pass: read every session's FacePass status from Pixora, compare it with
the local snapshots, record what changed and queue a webhook event for each change.

The first pass (no snapshots yet) only records a baseline, so a fresh install does not announce
every session. One pass runs at a time across processes (a PostgreSQL advisory lock, held while
Pixora is read, so an older read never overwrites a newer one).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.types import Uuid

from facepass.locks import AdvisoryLock, try_lock
from facepass.pixora.errors import pixora_errors
from facepass.pixora.models import PhotoSession
from facepass.sync.models import SessionSnapshot
from facepass.webhooks.events import (
    MISSING,
    FacePassState,
    queue_event,
    status_changed_event,
    webhook_urls,
)

if TYPE_CHECKING:
    from facepass.config import Settings
    from facepass.db import OwnDatabase
    from facepass.pixora.cache import ValidationCache
    from facepass.pixora.database import PixoraDatabase

logger = logging.getLogger(__name__)

PAGE_SIZE = 5000
UPSERT_CHUNK = 1000
_FIRST_ID = uuid.UUID(int=0)

_table = PhotoSession.__table__
_PAGE = (
    select(
        _table.c.id,
        _table.c.facepass_enabled,
        cast(_table.c.status, Text).label("status"),
        _table.c.updated_at,
    )
    .where(_table.c.id > bindparam("after", type_=Uuid()))
    .order_by(_table.c.id)
    .limit(PAGE_SIZE)
)


@dataclass(frozen=True, slots=True)
class Seen:
    """A session as one pass read it from Pixora."""

    state: FacePassState
    updated_at: datetime | None


@dataclass
class SyncReport:
    """What one pass did."""

    ran: bool = False
    baseline: bool = False
    sessions: int = 0
    changed: list[uuid.UUID] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def read_pixora(pixora: PixoraDatabase) -> dict[uuid.UUID, Seen]:
    """Every session's FacePass status, in pages by id (read-only, time-bounded statements)."""
    seen: dict[uuid.UUID, Seen] = {}
    after = _FIRST_ID
    with pixora_errors(), pixora.engine.connect() as conn:
        while True:
            rows = conn.execute(_PAGE, {"after": after}).all()
            for row in rows:
                state = FacePassState(True, row.facepass_enabled, row.status)
                seen[row.id] = Seen(state, row.updated_at)
            if len(rows) < PAGE_SIZE:
                return seen
            after = rows[-1].id


def _read_snapshots(db: Session) -> dict[uuid.UUID, Seen]:
    rows = db.execute(
        select(
            SessionSnapshot.session_id,
            SessionSnapshot.present,
            SessionSnapshot.facepass_enabled,
            SessionSnapshot.status,
            SessionSnapshot.pixora_updated_at,
        )
    )
    return {
        row.session_id: Seen(
            FacePassState(row.present, row.facepass_enabled, row.status if row.present else None),
            row.pixora_updated_at,
        )
        for row in rows
    }


def is_notable(previous: FacePassState, current: FacePassState) -> bool:
    """A change worth an event: any change of an existing session, or `active` flipping."""
    if previous.exists and current.exists:
        return previous != current
    return previous.active != current.active


def _upsert(db: Session, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), UPSERT_CHUNK):
        statement = insert(SessionSnapshot).values(rows[start : start + UPSERT_CHUNK])
        excluded = statement.excluded
        db.execute(
            statement.on_conflict_do_update(
                index_elements=[SessionSnapshot.session_id],
                set_={
                    "present": excluded.present,
                    "facepass_enabled": excluded.facepass_enabled,
                    "status": excluded.status,
                    "pixora_updated_at": excluded.pixora_updated_at,
                    "changed_at": excluded.changed_at,
                    "synced_at": func.now(),
                },
            )
        )


def sync_sessions(
    own_db: OwnDatabase, pixora: PixoraDatabase, cache: ValidationCache, settings: Settings
) -> SyncReport:
    """Run one pass; raises PixoraUnavailable when Pixora cannot be read (nothing is written)."""
    report = SyncReport()
    urls = webhook_urls(settings)
    with own_db.session() as db:
        if not try_lock(db, AdvisoryLock.SYNC):
            return report  # another process is syncing right now
        report.ran = True
        current = read_pixora(pixora)
        known = _read_snapshots(db)
        report.baseline, report.sessions = not known, len(current)
        gone = {
            sid: Seen(MISSING, seen.updated_at) for sid, seen in known.items() if sid not in current
        }
        writes: list[dict[str, Any]] = []
        for session_id, seen in (current | gone).items():
            before = known.get(session_id)
            previous = before.state if before is not None else MISSING
            if before is not None and before.state == seen.state:
                continue
            state = seen.state
            writes.append(
                {
                    "session_id": session_id,
                    "present": state.exists,
                    "facepass_enabled": state.facepass_enabled,
                    "status": state.status or (previous.status or ""),
                    "pixora_updated_at": seen.updated_at,
                    "changed_at": func.now(),
                }
            )
            report.changed.append(session_id)
            if not report.baseline and is_notable(previous, state):
                event = status_changed_event(session_id, previous, state)
                report.events.append(event)
                queue_event(db, event, urls)
                logger.info(
                    "session FacePass status changed",
                    extra={
                        "session_id": str(session_id),
                        "active": state.active,
                        "webhooks": len(urls),
                    },
                )
        _upsert(db, writes)
    if report.changed:
        cache.invalidate(report.changed)
    return report
