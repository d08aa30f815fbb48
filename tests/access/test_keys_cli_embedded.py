"""`facepass keys create --data-dir DIR` against a running embedded demo: the key it prints is
accepted by that demo for its studio's session, and refused on the other studio's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.config import ConfigError, Settings
from facepass.embedded import embedded_settings
from facepass.pixora.demo import (
    DEMO_SESSION_ID,
    DEMO_STUDIO_ID,
    OTHER_STUDIO_ID,
    OTHER_STUDIO_SESSION_ID,
)
from tests.access.conftest import bearer
from tests.conftest import REPO_ROOT

# Starts the embedded PostgreSQL through the CLI: not for `make test-fast`.
pytestmark = pytest.mark.services


def _facepass(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FACEPASS_") and key != "MAIN_APP_DATABASE_URL"
    }
    env.update(PYTHONPATH=str(REPO_ROOT), FACEPASS_LOG_JSON="false")
    return subprocess.run(
        [sys.executable, "-c", "from facepass.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


def test_keys_created_on_a_running_demos_data_dir_work_in_that_demo(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo-data"
    settings, postgres = embedded_settings(Settings(_env_file=None, log_json=False), data_dir)  # type: ignore[call-arg]
    try:
        app = create_app(settings, start_background=False)
        with TestClient(app) as client:  # the running demo (migrated by its start-up)
            created = _facepass(
                "keys",
                "create",
                "--studio",
                DEMO_STUDIO_ID,
                "--scope",
                "read",
                "--data-dir",
                str(data_dir),
            )
            assert created.returncode == 0, created.stderr
            key = json.loads(created.stdout.splitlines()[0])["key"]
            own = client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}/photos", headers=bearer(key))
            other = client.get(
                f"/api/v1/sessions/{OTHER_STUDIO_SESSION_ID}/photos", headers=bearer(key)
            )
            demo_other = client.get(f"/api/v1/sessions/validate/{OTHER_STUDIO_SESSION_ID}")
            listed = _facepass("keys", "list", "--data-dir", str(data_dir))
            verified = _facepass("audit", "verify", "--data-dir", str(data_dir))
    finally:
        postgres.stop()
    assert own.status_code == 200, own.text
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "FORBIDDEN_STUDIO"
    assert demo_other.json()["session"]["studio_id"] == OTHER_STUDIO_ID
    assert demo_other.json()["session"]["name"] == "Демо: другая студия"
    assert demo_other.json()["valid"] is True
    assert listed.returncode == 0, listed.stderr
    assert key not in listed.stdout
    assert len(listed.stdout.splitlines()) == 1
    # The running demo's audit chain (the key's creation is a row of it) verifies whole.
    assert verified.returncode == 0, verified.stderr
    chain = json.loads(verified.stdout)
    assert chain["ok"] is True
    assert chain["rows"] >= 1
    assert chain["role_can_tamper"] is True  # the embedded default: one role owns the log


def test_a_placeholder_pepper_is_refused_in_production() -> None:
    values = {
        "environment": "production",
        "main_app_database_url": "postgresql://u@pixora/db",
        "database_url": "postgresql://u@own/db",
        "admin_token": "a-real-admin-token-0123456789",
        "media_signing_key": "a-real-signing-key-0123456789",
        "public_base_url": "https://photos.studio.test",
        "operator_name": "Studio Operator LLC",
        "privacy_policy_url": "https://photos.studio.test/privacy",
    }
    Settings(_env_file=None, **values).require_production_ready()  # type: ignore[call-arg, arg-type]
    with pytest.raises(ConfigError, match="FACEPASS_API_KEY_PEPPER"):
        Settings(  # type: ignore[call-arg, arg-type]
            _env_file=None, api_key_pepper="changeme-api-key-pepper-at-least-24", **values
        ).require_production_ready()
