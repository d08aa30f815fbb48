"""Fixtures of the photo tests: the app with its in-process indexing, and admin headers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.config import Settings
from tests.conftest import ADMIN_TOKEN
from tests.pixora.fixtures import make_session, pixora_admin_engine

__all__ = ["make_session", "pixora_admin_engine"]

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app, indexing in-process (the embedded default's code path)."""
    app = create_app(settings, run_migrations=False, start_background=True)
    with TestClient(app) as test_client:
        yield test_client


def upload(
    client: TestClient, session_id: uuid.UUID, files: list[tuple[str, bytes]], **kwargs: Any
) -> Any:
    """POST files (name, bytes) to the session; returns the response."""
    parts = [("files", (name, body, "application/octet-stream")) for name, body in files]
    return client.post(
        f"/api/v1/sessions/{session_id}/photos", files=parts, headers=ADMIN, **kwargs
    )


def wait_until_indexed(
    client: TestClient, session_id: uuid.UUID, timeout_s: float = 60.0
) -> dict[str, Any]:
    """Poll index-status until nothing is pending or indexing; returns the last status."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(f"/api/v1/sessions/{session_id}/index-status", headers=ADMIN)
        assert response.status_code == 200, response.text
        status: dict[str, Any] = response.json()
        if status["complete"]:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"indexing did not finish: {status}")
        time.sleep(0.1)
