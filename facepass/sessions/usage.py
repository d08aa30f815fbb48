"""Usage analytics: validations and searches per session per day.

Counting happens in memory (a dictionary increment on the request path) and is flushed to
`session_usage_daily` every few seconds by the background sync, so analytics never slow a
validation down. A flush that fails keeps its counts for the next one.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from facepass.db import OwnDatabase
from facepass.sessions.models import SessionUsageDaily

UsageKind = Literal["validations", "searches"]
_Key = tuple[uuid.UUID, date, UsageKind]


class UsageRecorder:
    """Counts usage in memory until `flush` adds it to the database."""

    def __init__(self) -> None:
        self._counts: Counter[_Key] = Counter()
        self._lock = threading.Lock()

    def record(self, session_id: uuid.UUID, kind: UsageKind, count: int = 1) -> None:
        day = datetime.now(UTC).date()
        with self._lock:
            self._counts[(session_id, day, kind)] += count

    def _drain(self) -> Counter[_Key]:
        with self._lock:
            drained, self._counts = self._counts, Counter()
        return drained

    def flush(self, own_db: OwnDatabase) -> int:
        """Add the counts so far to `session_usage_daily`; returns the rows touched."""
        drained = self._drain()
        if not drained:
            return 0
        rows: dict[tuple[uuid.UUID, date], dict[str, object]] = {}
        for (session_id, day, kind), count in drained.items():
            row = rows.setdefault(
                (session_id, day),
                {"session_id": session_id, "day": day, "validations": 0, "searches": 0},
            )
            row[kind] = count
        statement = insert(SessionUsageDaily).values(list(rows.values()))
        table = SessionUsageDaily.__table__
        try:
            with own_db.session() as db:
                db.execute(
                    statement.on_conflict_do_update(
                        index_elements=[table.c.session_id, table.c.day],
                        set_={
                            "validations": table.c.validations + statement.excluded.validations,
                            "searches": table.c.searches + statement.excluded.searches,
                        },
                    )
                )
        except Exception:
            with self._lock:
                self._counts.update(drained)  # keep them for the next flush
            raise
        return len(rows)


# Process-wide, like the metrics registry: every request path records into the same counts.
USAGE = UsageRecorder()


def record_usage(session_id: uuid.UUID, kind: UsageKind, count: int = 1) -> None:
    """Count `count` validations or searches of a session today (in memory, cheap)."""
    USAGE.record(session_id, kind, count)


def daily_usage(db: Session, session_id: uuid.UUID, days: int) -> list[SessionUsageDaily]:
    """The session's usage rows of the last `days` UTC days, oldest first."""
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    rows = db.execute(
        select(SessionUsageDaily)
        .where(SessionUsageDaily.session_id == session_id, SessionUsageDaily.day >= since)
        .order_by(SessionUsageDaily.day)
    )
    return list(rows.scalars())
