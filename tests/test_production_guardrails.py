"""Production guardrails (issue 12, item 9): what FACEPASS_ENVIRONMENT=production refuses
or hides."""

from __future__ import annotations

import pytest

from facepass.config import ConfigError, Settings
from tests.pixora.fixtures import app_client

METRICS_TOKEN = "metrics-token-0123456789abcdef"


def _production(settings: Settings, **update: object) -> Settings:
    values = {
        "environment": "production",
        "public_base_url": "https://photos.studio.test",
        "operator_name": "Studio Operator LLC",
        "privacy_policy_url": "https://photos.studio.test/privacy",
    }
    return settings.model_copy(update={**values, **update})


def test_retaining_selfies_is_refused_in_production(settings: Settings) -> None:
    _production(settings).require_production_ready()
    with pytest.raises(ConfigError, match="FACEPASS_RETAIN_SELFIES"):
        _production(settings, retain_selfies=True).require_production_ready()
    with pytest.raises(ConfigError, match="FACEPASS_METRICS_TOKEN"):
        _production(settings, metrics_token="short").require_production_ready()


def test_production_hides_docs_and_metrics_unless_enabled(settings: Settings) -> None:
    with app_client(_production(settings)) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/metrics"):
            assert client.get(path).status_code == 404, path
        assert client.get("/health/live").status_code == 200
    enabled = _production(settings, api_docs=True, metrics_token=METRICS_TOKEN)
    with app_client(enabled) as client:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "UNAUTHORIZED"
        right = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert right.status_code == 200
        assert "facepass_http_requests_total" in right.text


def test_development_keeps_docs_and_open_metrics(settings: Settings) -> None:
    with app_client(settings) as client:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/metrics").status_code == 200


def test_production_requires_the_operator_and_the_privacy_policy(settings: Settings) -> None:
    """The consent screen must say who runs the service and link its policy (issue 19)."""
    for missing in ("operator_name", "privacy_policy_url"):
        with pytest.raises(ConfigError, match=f"FACEPASS_{missing.upper()}"):
            _production(settings, **{missing: None}).require_production_ready()
        with pytest.raises(ConfigError, match=f"FACEPASS_{missing.upper()}"):
            _production(settings, **{missing: "changeme"}).require_production_ready()
    with pytest.raises(ConfigError, match="FACEPASS_PRIVACY_POLICY_URL must be"):
        _production(settings, privacy_policy_url="studio.test/privacy").require_production_ready()
    with pytest.raises(ConfigError, match="FACEPASS_SMTP_URL"):
        _production(settings, smtp_url="mail.studio.test").require_production_ready()
    _production(settings, smtp_url="smtps://mail.studio.test:465").require_production_ready()
