"""The console's admin API: a studio's sessions (its own only), share checks, the preview."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from facepass.studio.service import why_not_public
from tests.access.conftest import KeyFactory, bearer
from tests.conftest import ADMIN_TOKEN
from tests.photos.images import faceless_jpeg
from tests.pixora.fixtures import SessionFactory


def _ids(client: TestClient, token: str) -> list[str]:
    answer = client.get("/api/v1/studio/sessions?limit=200", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return [s["id"] for s in answer.json()["sessions"]]


def test_a_key_lists_only_its_studios_sessions_with_their_figures(
    client: TestClient, make_session: SessionFactory, make_key: KeyFactory
) -> None:
    studio = uuid.uuid4()
    own = make_session(studio_id=studio, name="Свадьба")
    off = make_session(studio_id=studio, facepass_enabled=False)
    other = make_session(studio_id=uuid.uuid4())
    _, key = make_key(studio, "read")
    upload_key = make_key(studio, "upload")[1]
    parts = [("files", ("a.jpg", faceless_jpeg(), "image/jpeg"))]
    uploaded = client.post(
        f"/api/v1/sessions/{own}/photos", files=parts, headers=bearer(upload_key)
    )
    assert uploaded.status_code == 200

    answer = client.get("/api/v1/studio/sessions", headers=bearer(key)).json()
    assert answer["studio_id"] == str(studio)
    assert answer["total"] == 2
    listed = {s["id"]: s for s in answer["sessions"]}
    assert set(listed) == {str(own), str(off)}
    assert listed[str(own)]["photos"]["total"] == 1
    assert listed[str(own)]["indexing"] == "indexing"  # pending: no worker runs here
    assert listed[str(own)]["name"] == "Свадьба"
    assert listed[str(off)]["facepass_enabled"] is False
    assert listed[str(off)]["indexing"] == "empty"
    assert (listed[str(off)]["faces"], listed[str(off)]["people"]) == (0, 0)

    operator = _ids(client, ADMIN_TOKEN)
    assert {str(own), str(other)} <= set(operator) or len(operator) == 200
    for path in (
        f"/api/v1/studio/sessions/{other}/share",
        f"/api/v1/studio/sessions/{other}/preview",
    ):
        refused = client.get(path, headers=bearer(key))
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "FORBIDDEN_STUDIO"


def test_the_sessions_list_needs_a_valid_bearer(client: TestClient) -> None:
    assert client.get("/api/v1/studio/sessions").status_code == 401
    wrong = client.get("/api/v1/studio/sessions", headers=bearer("fpk_" + "x" * 40))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "UNAUTHORIZED"
    assert (
        client.get("/api/v1/studio/sessions?limit=0", headers=bearer(ADMIN_TOKEN)).status_code
        == 422
    )


def test_share_says_a_loopback_url_is_not_public(
    client: TestClient, make_session: SessionFactory, make_key: KeyFactory
) -> None:
    studio = uuid.uuid4()
    session = make_session(studio_id=studio)
    _, key = make_key(studio, "read")
    answer = client.get(f"/api/v1/studio/sessions/{session}/share", headers=bearer(key))
    assert answer.status_code == 200
    share = answer.json()
    assert share["guest_url"].endswith(f"/s/{session}")
    assert share["public"] is False  # the test client's host, "testserver", is a local name
    assert "local name" in share["reason"]


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://photos.example.com/s/1", True),
        ("http://93.184.216.34/s/1", True),
        ("http://127.0.0.1:8000/s/1", False),
        ("http://localhost:8000/s/1", False),
        ("http://192.168.1.20/s/1", False),
        ("http://10.0.0.5/s/1", False),
        ("http://169.254.1.1/s/1", False),
        ("http://[::1]/s/1", False),
        ("http://studio-laptop/s/1", False),
        ("http://facepass.local/s/1", False),
    ],
)
def test_why_not_public(url: str, public: bool) -> None:
    assert (why_not_public(url) is None) is public


def test_the_preview_renders_draft_branding_without_saving_it(
    client: TestClient, make_session: SessionFactory, make_key: KeyFactory
) -> None:
    studio = uuid.uuid4()
    session = make_session(studio_id=studio, name="Pixora name")
    _, key = make_key(studio, "read")
    page = client.get(
        f"/api/v1/studio/sessions/{session}/preview",
        params={"event_name": "Бал <выпускников>", "accent_color": "#AA0000", "lang": "en"},
        headers=bearer(key),
    )
    assert page.status_code == 200
    assert "Бал &lt;выпускников&gt;" in page.text
    assert '"accent":"#aa0000"' in page.text
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    saved = client.get(f"/api/v1/sessions/{session}/branding", headers=bearer(key)).json()
    assert saved["event_name"] is None
    bad = client.get(
        f"/api/v1/studio/sessions/{session}/preview",
        params={"cover_photo_id": str(uuid.uuid4())},
        headers=bearer(key),
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "INVALID_COVER_PHOTO"


def test_the_console_page_and_its_assets_are_served(client: TestClient) -> None:
    page = client.get("/studio")
    assert page.status_code == 200
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    for asset in ("studio.js", "studio.css"):
        assert f"/studio/assets/{asset}?v=" in page.text
        assert client.get(f"/studio/assets/{asset}").status_code == 200
    assert client.get("/studio/assets/nope.js").status_code == 404
