"""Answers every route shares (issue 12, item 9): request ids on 500s, nosniff, no Host-built
redirects."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.config import Settings
from facepass.observability.context import current_request_id


class _RequestIds(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str | None] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "unhandled error":
            self.seen.append(current_request_id())


def test_an_unexpected_error_is_a_500_with_its_request_id(settings: Settings) -> None:
    app = create_app(settings, run_migrations=False, start_background=False)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    handler = _RequestIds()
    logging.getLogger("facepass.errors").addHandler(handler)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.get("/boom", headers={"X-Request-ID": "trace-0123456789"})
    finally:
        logging.getLogger("facepass.errors").removeHandler(handler)
    assert answer.status_code == 500
    assert answer.json()["error"] == {
        "code": "INTERNAL_ERROR",
        "detail": "An unexpected error occurred.",
        "request_id": "trace-0123456789",
    }
    assert answer.headers["x-request-id"] == "trace-0123456789"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert handler.seen == ["trace-0123456789"]


@pytest.mark.parametrize("path", ["/health/live", "/api/v1/sessions/not-a-uuid", "/nowhere"])
def test_every_answer_says_nosniff(settings: Settings, path: str) -> None:
    with TestClient(create_app(settings, run_migrations=False, start_background=False)) as client:
        answer = client.get(path)
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_trailing_slash_is_not_redirected_to_the_callers_host(settings: Settings) -> None:
    with TestClient(create_app(settings, run_migrations=False, start_background=False)) as client:
        answer = client.get(
            "/health/live/", headers={"Host": "evil.example"}, follow_redirects=False
        )
    assert answer.status_code == 404
    assert "location" not in answer.headers
