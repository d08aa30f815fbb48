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

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from facepass.db import OwnDatabase
from facepass.usage.models import ConsentUsageDaily, SessionUsageDaily

UsageKind = Literal["validations", "searches", "opt_outs_unmatched"]
USAGE_KINDS: tuple[UsageKind, ...] = ("validations", "searches", "opt_outs_unmatched")
_Key = tuple[uuid.UUID, date, UsageKind]
_ConsentKey = tuple[uuid.UUID, date, str]
# A search without `consent_version`: its client (e.g. Pixora's own app) collected consent.
CLIENT_CONSENT = "client"


class UsageRecorder:
    """Counts usage in memory until `flush` adds it to the database."""

    def __init__(self) -> None:
        self._counts: Counter[_Key] = Counter()
        self._consents: Counter[_ConsentKey] = Counter()
        self._lock = threading.Lock()

    def record(self, session_id: uuid.UUID, kind: UsageKind, count: int = 1) -> None:
        day = datetime.now(UTC).date()
        with self._lock:
            self._counts[(session_id, day, kind)] += count

    def record_consent(self, session_id: uuid.UUID, consent_version: str | None) -> None:
        day = datetime.now(UTC).date()
        with self._lock:
            self._consents[(session_id, day, consent_version or CLIENT_CONSENT)] += 1

    def _drain(self) -> tuple[Counter[_Key], Counter[_ConsentKey]]:
        with self._lock:
            drained, self._counts = self._counts, Counter()
            consents, self._consents = self._consents, Counter()
        return drained, consents

    def flush(self, own_db: OwnDatabase) -> int:
        """Add the counts so far to `session_usage_daily` and `consent_usage_daily`; returns
        the rows touched."""
        drained, consents = self._drain()
        if not drained and not consents:
            return 0
        try:
            with own_db.session() as db:
                touched = _add_usage(db, drained) + _add_consents(db, consents)
        except Exception:
            with self._lock:
                self._counts.update(drained)  # keep them for the next flush
                self._consents.update(consents)
            raise
        return touched


def _add_usage(db: Session, drained: Counter[_Key]) -> int:
    if not drained:
        return 0
    rows: dict[tuple[uuid.UUID, date], dict[str, object]] = {}
    for (session_id, day, kind), count in drained.items():
        row = rows.setdefault(
            (session_id, day),
            {"session_id": session_id, "day": day, **dict.fromkeys(USAGE_KINDS, 0)},
        )
        row[kind] = count
    statement = insert(SessionUsageDaily).values(list(rows.values()))
    table = SessionUsageDaily.__table__
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.session_id, table.c.day],
            set_={kind: table.c[kind] + statement.excluded[kind] for kind in USAGE_KINDS},
        )
    )
    return len(rows)


def _add_consents(db: Session, consents: Counter[_ConsentKey]) -> int:
    if not consents:
        return 0
    values = [
        {"session_id": s, "day": d, "consent_version": v, "searches": n}
        for (s, d, v), n in consents.items()
    ]
    statement = insert(ConsentUsageDaily).values(values)
    table = ConsentUsageDaily.__table__
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.session_id, table.c.day, table.c.consent_version],
            set_={"searches": table.c.searches + statement.excluded.searches},
        )
    )
    return len(values)


# Process-wide, like the metrics registry: every request path records into the same counts.
USAGE = UsageRecorder()


def record_usage(session_id: uuid.UUID, kind: UsageKind, count: int = 1) -> None:
    """Count `count` validations or searches of a session today (in memory, cheap)."""
    USAGE.record(session_id, kind, count)


def record_consent(session_id: uuid.UUID, consent_version: str | None) -> None:
    """Count one search of a session under the consent version it carried (or the client's)."""
    USAGE.record_consent(session_id, consent_version)


def consent_usage(db: Session, session_id: uuid.UUID, days: int) -> dict[str, int]:
    """Searches of the last `days` UTC days per consent version."""
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    table = ConsentUsageDaily.__table__
    rows = db.execute(
        select(table.c.consent_version, func.sum(table.c.searches))
        .where(table.c.session_id == session_id, table.c.day >= since)
        .group_by(table.c.consent_version)
        .order_by(table.c.consent_version)
    )
    return {version: int(total) for version, total in rows}


def daily_usage(db: Session, session_id: uuid.UUID, days: int) -> list[SessionUsageDaily]:
    """The session's usage rows of the last `days` UTC days, oldest first."""
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    rows = db.execute(
        select(SessionUsageDaily)
        .where(SessionUsageDaily.session_id == session_id, SessionUsageDaily.day >= since)
        .order_by(SessionUsageDaily.day)
    )
    return list(rows.scalars())
