"""Pixora is read through connections that PostgreSQL itself keeps read-only and time-bounded."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from facepass.api.dependencies import PixoraDb
from facepass.config import Settings
from facepass.observability.metrics import REGISTRY
from facepass.pixora import PhotoSession, PixoraDatabase
from facepass.pixora.demo import DEMO_SESSION_ID, DISABLED_SESSION_ID
from facepass.pixora.errors import PixoraUnavailable
from tests.pixora.fixtures import (
    FAKE_PASSWORD,
    add_status_value,
    app_client,
    closed_port,
    url_with_password_at,
)


def _add_write_routes(app: FastAPI) -> None:
    """Routes that try to write through get_pixora_db and report what PostgreSQL said."""

    @app.post("/test/raw-insert")
    def raw_insert(db: PixoraDb) -> dict[str, str | None]:
        try:
            db.execute(
                text(
                    "INSERT INTO photo_sessions (id, name, photographer_id, studio_id)"
                    " VALUES (gen_random_uuid(), 'x', gen_random_uuid(), gen_random_uuid())"
                )
            )
            db.commit()
        except sa_exc.DBAPIError as exc:
            return {"sqlstate": getattr(exc.orig, "sqlstate", None)}
        return {"sqlstate": None}

    @app.post("/test/orm-update")
    def orm_update(db: PixoraDb) -> dict[str, str | None]:
        session = db.get(PhotoSession, uuid.UUID(DISABLED_SESSION_ID))
        assert session is not None
        session.facepass_enabled = True
        try:
            db.commit()
        except sa_exc.DBAPIError as exc:
            return {"sqlstate": getattr(exc.orig, "sqlstate", None)}
        return {"sqlstate": None}


def test_writes_through_get_pixora_db_fail_in_postgresql_even_for_the_owner(
    settings: Settings, pixora_admin_url: str
) -> None:
    # The owner role may write; the connection's read-only transactions still refuse.
    owner_settings = settings.model_copy(update={"main_app_database_url": pixora_admin_url})
    with app_client(owner_settings) as client:
        _add_write_routes(client.app)  # type: ignore[arg-type]
        assert client.post("/test/raw-insert").json() == {"sqlstate": "25006"}
        assert client.post("/test/orm-update").json() == {"sqlstate": "25006"}
        disabled = client.get(f"/api/v1/sessions/validate/{DISABLED_SESSION_ID}").json()
    assert disabled["valid"] is False


def test_session_is_read_only_and_reads_the_brief_example(pixora_url: str) -> None:
    database = PixoraDatabase(pixora_url)
    try:
        with database.session() as db:
            assert db.execute(text("SHOW default_transaction_read_only")).scalar() == "on"
            session = db.get(PhotoSession, uuid.UUID(DEMO_SESSION_ID))
            assert session is not None
            assert session.is_facepass_active()
            assert session.status == "created"
            disabled = db.get(PhotoSession, uuid.UUID(DISABLED_SESSION_ID))
            assert disabled is not None
            assert not disabled.is_facepass_active()
    finally:
        database.dispose()


def test_unknown_status_value_reads_as_text(pixora_url, pixora_admin_engine, make_session) -> None:
    add_status_value(pixora_admin_engine, "weird_new_status")
    session_id = make_session(status="weird_new_status")
    database = PixoraDatabase(pixora_url)
    try:
        with database.session() as db:
            session = db.get(PhotoSession, session_id)
        assert session is not None
        assert session.status == "weird_new_status"
    finally:
        database.dispose()


def test_statement_timeout_bounds_every_read(pixora_url: str) -> None:
    before = REGISTRY.get_sample_value("facepass_pixora_errors_total", {"kind": "timeout"}) or 0
    database = PixoraDatabase(pixora_url, statement_timeout_ms=100)
    try:
        with pytest.raises(PixoraUnavailable), database.session() as db:
            db.execute(text("SELECT pg_sleep(2)"))
    finally:
        database.dispose()
    after = REGISTRY.get_sample_value("facepass_pixora_errors_total", {"kind": "timeout"})
    assert after == before + 1


def test_unreachable_pixora_raises_a_credential_free_error(caplog) -> None:
    database = PixoraDatabase(url_with_password_at(closed_port()), connect_timeout_s=2)
    try:
        with pytest.raises(PixoraUnavailable) as raised:
            database.ping()
    finally:
        database.dispose()
    assert raised.value.code == "PIXORA_UNAVAILABLE"
    assert FAKE_PASSWORD not in str(raised.value)
    assert raised.value.__suppress_context__  # the driver's message is not chained along
    assert FAKE_PASSWORD not in repr(database)
    assert FAKE_PASSWORD not in caplog.text


def test_ping_answers_when_pixora_is_up(pixora_url: str) -> None:
    database = PixoraDatabase(pixora_url)
    try:
        database.ping()
    finally:
        database.dispose()
