"""The validation service and the dependencies other domains use."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import event

from facepass.api.dependencies import ActiveSession, ExistingSession
from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.pixora.demo import DEMO_SESSION_ID, DISABLED_SESSION_ID
from facepass.pixora.validation import (
    ACTIVE_SESSION_ERRORS,
    EXISTING_SESSION_ERRORS,
    validate_session,
    validate_sessions,
)
from tests.pixora.fixtures import TcpProxy, app_client, set_facepass

DEMO = uuid.UUID(DEMO_SESSION_ID)
DISABLED = uuid.UUID(DISABLED_SESSION_ID)


@pytest.fixture
def app_context(settings: Settings) -> Iterator[AppContext]:
    owned = AppContext.build(settings)
    yield owned
    owned.close()


def _count_statements(app_context: AppContext) -> list[str]:
    statements: list[str] = []

    @event.listens_for(app_context.pixora.engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    return statements


def test_many_ids_take_one_query_keep_order_and_drop_repeats(app_context: AppContext) -> None:
    statements = _count_statements(app_context)
    unknown = uuid.uuid4()
    answers = validate_sessions(
        app_context.pixora,
        app_context.validation_cache,
        [DISABLED, unknown, DEMO, unknown, DISABLED],
    )
    assert list(answers) == [DISABLED, unknown, DEMO]
    assert [a.result for a in answers.values()] == ["disabled", "not_found", "valid"]
    assert len([s for s in statements if "photo_sessions" in s]) == 1
    again = validate_sessions(
        app_context.pixora, app_context.validation_cache, [DEMO, unknown, DISABLED]
    )
    assert all(a.cache_hit for a in again.values())
    assert len([s for s in statements if "photo_sessions" in s]) == 1


def test_turning_facepass_off_shows_once_the_positive_ttl_ends(
    settings: Settings, make_session, pixora_admin_engine
) -> None:
    session_id = make_session(facepass_enabled=True)
    # Redis keeps these answers, on its own clock: a positive TTL long enough that the cached
    # read below is sure to come within it on a loaded machine.
    quick = settings.model_copy(update={"cache_ttl_s": 1.0, "cache_negative_ttl_s": 0.1})
    owned = AppContext.build(quick)
    try:
        assert validate_sessions(owned.pixora, owned.validation_cache, [session_id])[
            session_id
        ].valid
        set_facepass(pixora_admin_engine, session_id, False)
        cached = validate_sessions(owned.pixora, owned.validation_cache, [session_id])[session_id]
        assert cached.valid
        assert cached.cache_hit
        time.sleep(1.05)
        fresh = validate_sessions(owned.pixora, owned.validation_cache, [session_id])[session_id]
        assert (fresh.result, fresh.cache_hit) == ("disabled", False)
        set_facepass(pixora_admin_engine, session_id, True)
        time.sleep(0.15)  # negative answers live only cache_negative_ttl_s
        assert validate_sessions(owned.pixora, owned.validation_cache, [session_id])[
            session_id
        ].valid
    finally:
        owned.close()


def _guarded_app(client_app: FastAPI) -> None:
    @client_app.get("/test/active/{session_id}", responses=ACTIVE_SESSION_ERRORS)
    def active(session: ActiveSession) -> dict[str, str]:
        return {"name": session.name, "status": session.status}

    @client_app.get("/test/existing/{session_id}", responses=EXISTING_SESSION_ERRORS)
    def existing(session: ExistingSession) -> dict[str, bool]:
        return {"facepass_enabled": session.facepass_enabled}


def test_require_active_session_answers_404_403_and_200(settings: Settings) -> None:
    with app_client(settings) as client:
        _guarded_app(client.app)  # type: ignore[arg-type]
        ok = client.get(f"/test/active/{DEMO}")
        off = client.get(f"/test/active/{DISABLED}")
        missing = client.get(f"/test/active/{uuid.uuid4()}")
        malformed = client.get("/test/active/not-a-uuid")
    assert ok.json() == {"name": "Тестовая поиск по лицу", "status": "created"}
    assert (off.status_code, off.json()["error"]["code"]) == (403, "FACEPASS_DISABLED")
    assert off.json()["error"]["detail"] == "FacePass is not enabled"
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "SESSION_NOT_FOUND")
    assert malformed.status_code == 422


def test_require_existing_session_lets_disabled_sessions_through(settings: Settings) -> None:
    with app_client(settings) as client:
        _guarded_app(client.app)  # type: ignore[arg-type]
        off = client.get(f"/test/existing/{DISABLED}")
        missing = client.get(f"/test/existing/{uuid.uuid4()}")
    assert off.json() == {"facepass_enabled": False}
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "SESSION_NOT_FOUND")


def test_dependencies_answer_503_while_pixora_is_down_and_errors_are_not_cached(
    settings: Settings, pixora_url: str, pixora_proxy: TcpProxy
) -> None:
    proxied = pixora_url.replace("127.0.0.1:5432", f"127.0.0.1:{pixora_proxy.port}")
    via_proxy = settings.model_copy(
        update={"main_app_database_url": proxied, "pixora_connect_timeout_s": 2}
    )
    with app_client(via_proxy) as client:
        _guarded_app(client.app)  # type: ignore[arg-type]
        pixora_proxy.stop()
        down = client.get(f"/test/active/{DEMO}")
        pixora_proxy.start()
        back = client.get(f"/test/active/{DEMO}")
    assert (down.status_code, down.json()["error"]["code"]) == (503, "PIXORA_UNAVAILABLE")
    assert back.status_code == 200


def test_each_validation_is_logged_with_result_and_cache_hit(app_context, caplog) -> None:
    caplog.set_level(logging.INFO, logger="facepass.pixora.validation")
    validate_session(app_context.pixora, app_context.validation_cache, DISABLED)
    validate_session(app_context.pixora, app_context.validation_cache, DISABLED)
    records = [r for r in caplog.records if r.getMessage() == "session validated"]
    assert [(r.session_id, r.result, r.cache_hit) for r in records] == [  # type: ignore[attr-defined]
        (str(DISABLED), "disabled", False),
        (str(DISABLED), "disabled", True),
    ]
