"""The OpenAPI document and the 405s tell the truth (issue 12, items 6 and 10)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.config import Settings
from facepass.openapi import unbounded_integer_parameters
from tests.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings, run_migrations=False, start_background=False))


def test_every_integer_parameter_is_bounded_and_framework_errors_are_documented(
    settings: Settings,
) -> None:
    with _client(settings) as client:
        document = client.get("/openapi.json").json()
    assert unbounded_integer_parameters(document) == []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "text/plain" in responses["400"]["content"], (method, path)
            if "requestBody" in operation or operation.get("parameters"):
                assert "422" in responses, (method, path)


def test_a_405_lists_every_method_of_the_path(settings: Settings) -> None:
    photos = f"/api/v1/sessions/{uuid.uuid4()}/photos"
    with _client(settings) as client:
        options = client.options(photos, headers=ADMIN)
        check = client.delete(f"{photos}/check", headers=ADMIN)
        validate = client.get("/api/v1/sessions/validate")
        malformed = client.get("/api/v1/sessions/not-a-uuid")
    assert options.status_code == 405
    assert set(options.headers["allow"].split(", ")) >= {"GET", "POST", "DELETE"}
    assert options.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert (check.status_code, check.headers["allow"]) == (405, "POST")
    assert (validate.status_code, validate.headers["allow"]) == (405, "POST")
    assert malformed.status_code == 422  # a malformed id is still a validation error
