"""The application starts against real databases and answers in the one error shape."""

from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.config import Settings


def test_unknown_route_uses_the_error_shape_with_a_request_id(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "NOT_FOUND"
    assert body["error"]["request_id"] == response.headers["x-request-id"]
