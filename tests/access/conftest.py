"""Fixtures of the access tests: the app on real services, studio keys, audit rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, pool, text

from facepass.access.keys import create_key
from facepass.app import create_app
from facepass.config import Settings
from facepass.db import OwnDatabase, sqlalchemy_url
from tests.pixora.fixtures import make_session, pixora_admin_engine

__all__ = ["make_session", "pixora_admin_engine"]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app (migrations already ran; no background work)."""
    app = create_app(settings, run_migrations=False, start_background=False)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def own_db(settings: Settings) -> Iterator[OwnDatabase]:
    assert settings.database_url is not None
    db = OwnDatabase(settings.database_url, pool_size=2)
    yield db
    db.dispose()


KeyFactory = Callable[..., tuple[uuid.UUID, str]]


@pytest.fixture
def make_key(own_db: OwnDatabase, settings: Settings) -> KeyFactory:
    """Create a studio key; returns (key id, key)."""

    def make(studio_id: uuid.UUID, scope: str = "upload") -> tuple[uuid.UUID, str]:
        with own_db.session() as db:
            info, key = create_key(db, settings, studio_id, scope, "test")
        return info.id, key

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_rows(url: str, session_id: uuid.UUID) -> list[dict[str, Any]]:
    """The session's audit rows, oldest first (read straight from the table)."""
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT actor, action, counts FROM audit_log WHERE session_id = :s ORDER BY id"),
            {"s": session_id},
        )
        result = [dict(row._mapping) for row in rows]
    engine.dispose()
    return result
