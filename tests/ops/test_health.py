"""Liveness, readiness of both databases, and Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST

from facepass.config import Settings
from facepass.pixora.demo import DEMO_SESSION_ID
from tests.pixora.fixtures import FAKE_PASSWORD, app_client, closed_port, url_with_password_at


def test_live_and_ready_when_both_databases_answer(settings: Settings) -> None:
    with app_client(settings) as client:
        live = client.get("/health/live")
        ready = client.get("/health/ready")
    assert live.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "pixora": "ok"},
        "pixora_host": "127.0.0.1:5432",
    }


def test_not_ready_names_pixora_without_its_address(settings: Settings) -> None:
    broken = settings.model_copy(
        update={"main_app_database_url": url_with_password_at(closed_port())}
    )
    with app_client(broken) as client:
        ready = client.get("/health/ready")
        live = client.get("/health/live")
    assert ready.status_code == 503
    error = ready.json()["error"]
    assert error["code"] == "NOT_READY"
    assert "Pixora" in error["detail"]
    assert "FacePass's database" not in error["detail"]
    assert FAKE_PASSWORD not in ready.text
    assert "127.0.0.1" not in ready.text
    assert live.status_code == 200  # liveness never depends on a database


def test_not_ready_names_our_own_database(settings: Settings) -> None:
    port = closed_port()
    broken = settings.model_copy(
        update={"database_url": f"postgresql://facepass:{FAKE_PASSWORD}@127.0.0.1:{port}/fp"}
    )
    with app_client(broken) as client:
        ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert "FacePass's database" in ready.json()["error"]["detail"]
    assert "Pixora" not in ready.json()["error"]["detail"]
    assert FAKE_PASSWORD not in ready.text


def test_metrics_expose_requests_cache_and_pixora_counters(settings: Settings) -> None:
    with app_client(settings) as client:
        client.get(f"/api/v1/sessions/validate/{DEMO_SESSION_ID}")
        client.get(f"/api/v1/sessions/validate/{DEMO_SESSION_ID}")
        metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"] == CONTENT_TYPE_LATEST
    text = metrics.text
    assert 'facepass_validation_cache_total{result="hit"}' in text
    assert 'facepass_validation_cache_total{result="miss"}' in text
    assert (
        'facepass_http_requests_total{method="GET",'
        'route="/api/v1/sessions/validate/{session_id}",status="200"}'
    ) in text


def test_operations_endpoints_are_documented(settings: Settings) -> None:
    with app_client(settings) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert paths["/health/live"]["get"]["summary"] == "Liveness"
    assert "503" in paths["/health/ready"]["get"]["responses"]
    assert CONTENT_TYPE_LATEST in paths["/metrics"]["get"]["responses"]["200"]["content"]
