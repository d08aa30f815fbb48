"""Advisory locks: taken only through facepass.locks, and exclusive across connections."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import create_engine

from facepass.db import sqlalchemy_url
from facepass.locks import AdvisoryLock, try_lock, wait_for_lock

PACKAGE = Path(__file__).resolve().parents[1] / "facepass"


def test_no_module_but_locks_takes_an_advisory_lock() -> None:
    takers = [
        str(path.relative_to(PACKAGE.parent))
        for path in sorted(PACKAGE.rglob("*.py"))
        if re.search(r"pg_(try_)?advisory", path.read_text()) and path != PACKAGE / "locks.py"
    ]
    assert takers == []


def test_a_held_lock_is_refused_to_others_until_the_transaction_ends(own_db_url: str) -> None:
    engine = create_engine(sqlalchemy_url(own_db_url))
    try:
        with engine.connect() as first, engine.connect() as second:
            with first.begin():
                wait_for_lock(first, AdvisoryLock.RECONCILER)
                with second.begin():
                    assert not try_lock(second, AdvisoryLock.RECONCILER)
                    assert try_lock(second, AdvisoryLock.SYNC)
            with second.begin():
                assert try_lock(second, AdvisoryLock.RECONCILER)
    finally:
        engine.dispose()
