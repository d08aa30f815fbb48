"""Session data, FacePass status, and how the session endpoints are documented."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from facepass.config import Settings
from facepass.pixora.demo import DEMO_SESSION_ID, DISABLED_SESSION_ID
from tests.pixora.fixtures import app_client


def test_session_data_shows_the_briefs_fields_and_nothing_private(
    settings: Settings, make_session
) -> None:
    session_id = make_session(
        description="Съёмка в парке",
        scheduled_at=datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        settings='{"watermark": true, "theme": {"color": "#fff"}}',
        service_package_id=uuid.uuid4(),
        facepass_enabled=False,
        status="scheduled",
    )
    with app_client(settings) as client:
        body = client.get(f"/api/v1/sessions/{session_id}").json()
    assert list(body) == [
        "id", "name", "studio_id", "facepass_enabled", "photographer_id", "status",
        "created_at", "updated_at",
    ]  # fmt: skip
    assert body["id"] == str(session_id)
    assert body["status"] == "scheduled"
    assert body["facepass_enabled"] is False
    assert body["created_at"] == "2026-03-01T12:30:15.123456+00:00"


def test_session_data_is_rate_limited_per_address(settings: Settings) -> None:
    limited = settings.model_copy(update={"session_details_rate_limit": "2/minute"})
    with app_client(limited) as client:
        answers = [client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1].json()["error"]["code"] == "RATE_LIMITED"


def test_session_data_of_the_demo_session_and_an_unknown_one(settings: Settings) -> None:
    with app_client(settings) as client:
        demo = client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}")
        missing = client.get(f"/api/v1/sessions/{uuid.uuid4()}")
        malformed = client.get("/api/v1/sessions/12345")
    assert demo.json()["name"] == "Тестовая поиск по лицу"
    assert demo.json()["created_at"] == "2026-02-18T17:55:51.746000+00:00"
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "SESSION_NOT_FOUND",
        "detail": "Session not found",
        "request_id": missing.headers["x-request-id"],
    }
    assert malformed.status_code == 422


def test_facepass_status_says_active_or_why_not(settings: Settings) -> None:
    with app_client(settings) as client:
        on = client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}/facepass-status")
        off = client.get(f"/api/v1/sessions/{DISABLED_SESSION_ID}/facepass-status")
        missing = client.get(f"/api/v1/sessions/{uuid.uuid4()}/facepass-status")
    assert on.json() == {
        "session_id": DEMO_SESSION_ID,
        "facepass_enabled": True,
        "status": "created",
        "active": True,
        "reason": None,
    }
    assert off.json() == {
        "session_id": DISABLED_SESSION_ID,
        "facepass_enabled": False,
        "status": "completed",
        "active": False,
        "reason": "FacePass is not enabled",
    }
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "SESSION_NOT_FOUND")


def test_openapi_documents_every_session_endpoint_and_its_errors(settings: Settings) -> None:
    with app_client(settings) as client:
        spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {
        ("/api/v1/sessions/validate/{session_id}", "get"): {"200", "422", "503"},
        ("/api/v1/sessions/validate", "post"): {"200", "422", "503"},
        ("/api/v1/sessions/{session_id}", "get"): {"200", "404", "422", "503"},
        ("/api/v1/sessions/{session_id}/facepass-status", "get"): {"200", "404", "422", "503"},
    }
    for (path, method), statuses in expected.items():
        operation = paths[path][method]
        assert operation["summary"]
        assert statuses <= set(operation["responses"]), path
        assert operation["responses"]["503"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }
    validate_200 = paths["/api/v1/sessions/validate/{session_id}"]["get"]["responses"]["200"]
    examples = validate_200["content"]["application/json"]["examples"]
    assert examples["not_found"]["value"]["error"] == "Session not found"
