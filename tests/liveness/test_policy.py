"""A studio's selfie policy per session: `live` by default, `live_or_gallery` when the studio
says so; an opt-out needs a live pair whatever the policy."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.access.conftest import audit_rows
from tests.liveness.conftest import ADMIN, LiveWorld, astronaut_front
from tests.search.conftest import create_pixora_session


def _gallery_search(client: httpx.Client, session_id: uuid.UUID) -> httpx.Response:
    return client.post(
        f"/api/v1/sessions/{session_id}/search",
        files=[("selfie", ("gallery.jpg", astronaut_front(), "image/jpeg"))],
    )


def _page_policy(client: httpx.Client, session_id: uuid.UUID) -> str:
    """The policy the guest page was given (its config script)."""
    found = re.search(r'"selfie_policy":\s*"(\w+)"', client.get(f"/s/{session_id}").text)
    assert found is not None
    return found.group(1)


def test_the_studio_chooses_whether_a_gallery_photo_may_search(
    client: httpx.Client, world: LiveWorld
) -> None:
    session = create_pixora_session(world.pixora_admin_url)
    url = f"/api/v1/sessions/{session}/selfie-policy"
    assert client.get(url, headers=ADMIN).json() == {
        "session_id": str(session),
        "selfie_policy": "live",
        "default": True,
    }
    refused = _gallery_search(client, session)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "LIVE_SELFIE_REQUIRED"
    assert _page_policy(client, session) == "live"

    changed = client.put(url, headers=ADMIN, json={"selfie_policy": "live_or_gallery"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["selfie_policy"] == "live_or_gallery"
    assert client.get(url, headers=ADMIN).json()["default"] is False
    assert _gallery_search(client, session).status_code == 200
    assert _page_policy(client, session) == "live_or_gallery"
    rows = audit_rows(world.settings.database_url or "", session)
    assert [r["action"] for r in rows] == ["selfie_policy"]
    assert rows[0]["counts"] == {"policy": "live_or_gallery"}

    assert client.put(url, headers=ADMIN, json={"selfie_policy": "live"}).status_code == 200
    assert _gallery_search(client, session).status_code == 403


def test_the_policy_is_the_studios_alone(client: httpx.Client, world: LiveWorld) -> None:
    url = f"/api/v1/sessions/{world.session_id}/selfie-policy"
    assert client.put(url, json={"selfie_policy": "live_or_gallery"}).status_code == 401
    assert client.get(url).status_code == 401
    for bad in ({"selfie_policy": "gallery"}, {"selfie_policy": None}, {}, []):
        answer = client.put(url, headers=ADMIN, json=bad)
        assert answer.status_code == 422, bad
        assert set(answer.json()) == {"error"}
    unknown = client.put(
        f"/api/v1/sessions/{uuid.uuid4()}/selfie-policy",
        headers=ADMIN,
        json={"selfie_policy": "live"},
    )
    assert unknown.status_code == 404


def test_an_opt_out_always_needs_a_live_pair(client: httpx.Client, world: LiveWorld) -> None:
    session = world.session_id
    allowed = client.put(
        f"/api/v1/sessions/{session}/selfie-policy",
        headers=ADMIN,
        json={"selfie_policy": "live_or_gallery"},
    )
    assert allowed.status_code == 200
    try:
        before = _gallery_search(client, session).json()["total"]
        refused = client.post(
            f"/api/v1/sessions/{session}/opt-out",
            files=[("selfie", ("gallery.jpg", astronaut_front(), "image/jpeg"))],
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "LIVE_SELFIE_REQUIRED"
        assert _gallery_search(client, session).json()["total"] == before > 0
    finally:
        client.put(
            f"/api/v1/sessions/{session}/selfie-policy",
            headers=ADMIN,
            json={"selfie_policy": "live"},
        )
