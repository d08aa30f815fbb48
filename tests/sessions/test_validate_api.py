"""The brief's validation endpoint and batch validation, with their exact JSON."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import event

from facepass.api.dependencies import app_context
from facepass.config import Settings
from facepass.pixora.demo import DEMO_SESSION_ID, DISABLED_SESSION_ID
from tests.pixora.fixtures import (
    FAKE_PASSWORD,
    TcpProxy,
    add_status_value,
    app_client,
    closed_port,
    url_with_password_at,
)

DEMO_JSON = {
    "id": DEMO_SESSION_ID,
    "name": "Тестовая поиск по лицу",
    "studio_id": "9cccbfe6-2137-4d5a-97c7-e470dd73a758",
    "facepass_enabled": True,
    "photographer_id": "5ff5d5fd-1068-405f-b4c9-3c9c01a499d9",
    "status": "created",
    "created_at": "2026-02-18T17:55:51.746000+00:00",
    "updated_at": "2026-02-18T17:55:51.746000+00:00",
}
DISABLED_JSON = DEMO_JSON | {
    "id": DISABLED_SESSION_ID,
    "name": "Демо: FacePass выключен",
    "facepass_enabled": False,
    "status": "completed",
}
VALID = {"valid": True, "session": DEMO_JSON, "error": None}
DISABLED = {"valid": False, "session": DISABLED_JSON, "error": "FacePass is not enabled"}
NOT_FOUND = {"valid": False, "session": None, "error": "Session not found"}


def test_validate_answers_the_brief_json_for_each_case(settings: Settings) -> None:
    unknown = uuid.uuid4()
    with app_client(settings) as client:
        valid = client.get(f"/api/v1/sessions/validate/{DEMO_SESSION_ID}")
        cached = client.get(f"/api/v1/sessions/validate/{DEMO_SESSION_ID}")
        disabled = client.get(f"/api/v1/sessions/validate/{DISABLED_SESSION_ID}")
        missing = client.get(f"/api/v1/sessions/validate/{unknown}")
    assert [r.status_code for r in (valid, cached, disabled, missing)] == [200] * 4
    assert valid.json() == VALID
    assert list(valid.json()["session"]) == list(DEMO_JSON)  # the brief's key order
    assert cached.json() == VALID
    assert disabled.json() == DISABLED
    assert missing.json() == NOT_FOUND


def test_validate_accepts_uppercase_ids_and_rejects_malformed_ones(settings: Settings) -> None:
    with app_client(settings) as client:
        upper = client.get(f"/api/v1/sessions/validate/{DEMO_SESSION_ID.upper()}")
        malformed = client.get("/api/v1/sessions/validate/1788875f-not-a-uuid")
    assert upper.json() == VALID
    assert malformed.status_code == 422
    error = malformed.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "session_id" in error["detail"]
    assert "UUID" in error["detail"]


def test_unknown_status_values_validate_as_text(
    settings: Settings, make_session, pixora_admin_engine
) -> None:
    add_status_value(pixora_admin_engine, "weird_new_status")
    session_id = make_session(status="weird_new_status")
    with app_client(settings) as client:
        body = client.get(f"/api/v1/sessions/validate/{session_id}").json()
    assert body["valid"] is True
    assert body["session"]["status"] == "weird_new_status"
    assert body["session"]["created_at"] == "2026-03-01T12:30:15.123456+00:00"


def test_batch_answers_each_distinct_id_in_order_with_one_query(settings: Settings) -> None:
    unknown = str(uuid.uuid4())
    ids = [DISABLED_SESSION_ID, unknown, DEMO_SESSION_ID.upper(), unknown, DISABLED_SESSION_ID]
    with app_client(settings) as client:
        statements: list[str] = []
        engine = app_context(client.app).pixora.engine  # type: ignore[arg-type]
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        response = client.post("/api/v1/sessions/validate", json={"session_ids": ids})
    assert response.status_code == 200
    body = response.json()
    assert list(body["results"]) == [DISABLED_SESSION_ID, unknown, DEMO_SESSION_ID]
    assert body["results"] == {
        DISABLED_SESSION_ID: DISABLED,
        unknown: NOT_FOUND,
        DEMO_SESSION_ID: VALID,
    }
    assert body["counts"] == {
        "requested": 5,
        "unique": 3,
        "valid": 1,
        "not_found": 1,
        "disabled": 1,
    }
    assert len([s for s in statements if "photo_sessions" in s]) == 1


def test_batch_of_a_thousand_is_served_and_more_is_refused(settings: Settings) -> None:
    thousand = [str(uuid.uuid4()) for _ in range(999)] + [DEMO_SESSION_ID]
    with app_client(settings) as client:
        full = client.post("/api/v1/sessions/validate", json={"session_ids": thousand})
        too_many = client.post(
            "/api/v1/sessions/validate", json={"session_ids": [*thousand, DEMO_SESSION_ID]}
        )
        empty = client.post("/api/v1/sessions/validate", json={"session_ids": []})
        malformed = client.post(
            "/api/v1/sessions/validate", json={"session_ids": [DEMO_SESSION_ID, "nope"]}
        )
        no_body = client.post("/api/v1/sessions/validate")
    assert full.status_code == 200
    assert full.json()["counts"]["valid"] == 1
    assert full.json()["counts"]["not_found"] == 999
    for refused in (too_many, empty, malformed, no_body):
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "1000" in too_many.json()["error"]["detail"]
    assert "session_ids.1" in malformed.json()["error"]["detail"]


def test_pixora_down_is_503_then_recovers_by_itself(
    settings: Settings, pixora_url: str, pixora_proxy: TcpProxy
) -> None:
    proxied = pixora_url.replace("127.0.0.1:5432", f"127.0.0.1:{pixora_proxy.port}")
    uncached = settings.model_copy(
        update={"main_app_database_url": proxied, "cache_ttl_s": 0, "cache_negative_ttl_s": 0}
    )
    url = f"/api/v1/sessions/validate/{DEMO_SESSION_ID}"
    with app_client(uncached) as client:
        assert client.get(url).json() == VALID
        pixora_proxy.stop()
        down = client.get(url)
        batch_down = client.post(
            "/api/v1/sessions/validate", json={"session_ids": [DEMO_SESSION_ID]}
        )
        pixora_proxy.start()
        back = client.get(url)
    assert down.status_code == 503
    assert down.headers["retry-after"] == "5"
    assert down.json()["error"]["code"] == "PIXORA_UNAVAILABLE"
    assert down.json()["error"]["request_id"] == down.headers["x-request-id"]
    assert batch_down.status_code == 503
    assert back.json() == VALID


def test_no_credentials_in_503_bodies_or_log_lines(settings: Settings, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    broken = settings.model_copy(
        update={"main_app_database_url": url_with_password_at(closed_port())}
    )
    with app_client(broken) as client:
        responses = [
            client.get(f"/api/v1/sessions/validate/{DEMO_SESSION_ID}"),
            client.post("/api/v1/sessions/validate", json={"session_ids": [DEMO_SESSION_ID]}),
            client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}"),
            client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}/facepass-status"),
            client.get("/health/ready"),
        ]
    for response in responses:
        assert response.status_code == 503
        assert FAKE_PASSWORD not in response.text
        assert "pixora_user" not in response.text
    warnings = [r for r in caplog.records if r.name == "facepass.pixora.errors"]
    assert warnings, "the failures are logged"
    for record in caplog.records:
        rendered = " ".join(
            [record.getMessage(), str(vars(record)), logging.Formatter().format(record)]
        )
        assert FAKE_PASSWORD not in rendered


def test_redis_down_still_validates_from_pixora(settings: Settings) -> None:
    no_redis = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port()}/0"})
    with app_client(no_redis) as client:
        first = client.get(f"/api/v1/sessions/validate/{DEMO_SESSION_ID}")
        second = client.get(f"/api/v1/sessions/validate/{DISABLED_SESSION_ID}")
        batch = client.post("/api/v1/sessions/validate", json={"session_ids": [DEMO_SESSION_ID]})
    assert first.json() == VALID
    assert second.json() == DISABLED
    assert batch.json()["results"][DEMO_SESSION_ID] == VALID
