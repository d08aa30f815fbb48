"""PostgreSQL advisory locks: every id FacePass takes, in one place so that none collide.

All are transaction-scoped: released at commit or rollback, and when a process dies.
"""

from __future__ import annotations

from enum import IntEnum, unique

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session


@unique
class AdvisoryLock(IntEnum):
    """Who holds each lock id (a new lock takes the next free number: 4242007)."""

    MIGRATIONS = 4242001  # one migrator at a time, even when several processes start together
    VECTOR_INDEX = 4242002  # one creator of a model's vector index at a time
    RECONCILER = 4242003  # one reconciliation pass at a time across every process
    RETENTION = 4242004  # one retention (purge) pass at a time across every process
    SYNC = 4242005  # one Pixora sync pass at a time across every process
    PEOPLE = 4242006  # with a session's hash (try_lock_for): one regrouping of it at a time


def wait_for_lock(db: Connection | Session, lock: AdvisoryLock) -> None:
    """Take `lock` for the rest of the transaction, waiting while another holds it."""
    db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(lock)})


def try_lock(db: Connection | Session, lock: AdvisoryLock) -> bool:
    """Take `lock` for the rest of the transaction if nobody holds it; False if somebody does."""
    taken = db.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": int(lock)})
    return bool(taken.scalar_one())


def wait_for_lock_for(db: Connection | Session, lock: AdvisoryLock, name: str) -> None:
    """Like `wait_for_lock`, for one thing of the lock's kind (`name`, hashed)."""
    db.execute(
        text("SELECT pg_advisory_xact_lock(:key, hashtext(:name))"),
        {"key": int(lock), "name": name},
    )


def try_lock_for(db: Connection | Session, lock: AdvisoryLock, name: str) -> bool:
    """Like `try_lock`, for one thing of the lock's kind (`name`, hashed): the two-key form."""
    taken = db.execute(
        text("SELECT pg_try_advisory_xact_lock(:key, hashtext(:name))"),
        {"key": int(lock), "name": name},
    )
    return bool(taken.scalar_one())
