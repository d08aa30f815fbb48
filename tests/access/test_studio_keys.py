"""Studio keys reach only their studio's sessions, within their scope; operators reach all."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from facepass.access.keys import revoke_key
from facepass.config import Settings
from facepass.db import OwnDatabase
from tests.access.conftest import KeyFactory, audit_rows, bearer
from tests.conftest import ADMIN_TOKEN
from tests.photos.images import faceless_jpeg
from tests.pixora.fixtures import SessionFactory


def _upload(client: TestClient, session_id: uuid.UUID, token: str) -> int:
    parts = [("files", ("a.jpg", faceless_jpeg(), "image/jpeg"))]
    response = client.post(
        f"/api/v1/sessions/{session_id}/photos", files=parts, headers=bearer(token)
    )
    return response.status_code


def test_a_studio_key_cannot_list_upload_to_or_delete_from_another_studios_session(
    client: TestClient, make_session: SessionFactory, make_key: KeyFactory
) -> None:
    studio = uuid.uuid4()
    own = make_session(studio_id=studio)
    other = make_session(studio_id=uuid.uuid4())
    _, key = make_key(studio, "delete")

    assert client.get(f"/api/v1/sessions/{own}/photos", headers=bearer(key)).status_code == 200
    assert _upload(client, own, key) == 200

    refused = [
        client.get(f"/api/v1/sessions/{other}/photos", headers=bearer(key)),
        client.get(f"/api/v1/sessions/{other}/index-status", headers=bearer(key)),
        client.post(
            f"/api/v1/sessions/{other}/photos",
            files=[("files", ("a.jpg", faceless_jpeg(), "image/jpeg"))],
            headers=bearer(key),
        ),
        client.delete(f"/api/v1/sessions/{other}/photos", headers=bearer(key)),
        client.delete(f"/api/v1/sessions/{other}/photos/{uuid.uuid4()}", headers=bearer(key)),
        client.delete(f"/api/v1/sessions/{other}/faces/1", headers=bearer(key)),
        # A session that does not exist answers exactly like another studio's.
        client.get(f"/api/v1/sessions/{uuid.uuid4()}/photos", headers=bearer(key)),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "FORBIDDEN_STUDIO"
        assert error["detail"] == "This key does not give access to this session."
    # The other studio's session was not touched; the operator still sees it.
    listing = client.get(f"/api/v1/sessions/{other}/photos", headers=bearer(ADMIN_TOKEN))
    assert listing.status_code == 200


def test_scopes_are_ordered_read_upload_delete(
    client: TestClient, make_session: SessionFactory, make_key: KeyFactory
) -> None:
    studio = uuid.uuid4()
    session = make_session(studio_id=studio)
    _, reader = make_key(studio, "read")
    _, uploader = make_key(studio, "upload")

    assert (
        client.get(f"/api/v1/sessions/{session}/photos", headers=bearer(reader)).status_code == 200
    )
    assert _upload(client, session, reader) == 403
    assert _upload(client, session, uploader) == 200
    denied = client.delete(f"/api/v1/sessions/{session}/photos", headers=bearer(uploader))
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "FORBIDDEN_SCOPE"


def test_a_revoked_or_unknown_key_is_refused(
    client: TestClient,
    make_session: SessionFactory,
    make_key: KeyFactory,
    own_db: OwnDatabase,
) -> None:
    studio = uuid.uuid4()
    session = make_session(studio_id=studio)
    key_id, key = make_key(studio, "read")
    url = f"/api/v1/sessions/{session}/photos"
    assert client.get(url, headers=bearer(key)).status_code == 200
    with own_db.session() as db:
        assert revoke_key(db, key_id) is not None
    assert client.get(url, headers=bearer(key)).status_code == 401
    assert client.get(url, headers=bearer(key + "x")).status_code == 401
    assert client.get(url).status_code == 401


def test_the_audit_log_is_for_operators_and_names_the_key(
    client: TestClient,
    make_session: SessionFactory,
    make_key: KeyFactory,
    settings: Settings,
) -> None:
    studio = uuid.uuid4()
    session = make_session(studio_id=studio)
    key_id, key = make_key(studio, "delete")
    assert _upload(client, session, key) == 200
    assert (
        client.delete(f"/api/v1/sessions/{session}/photos", headers=bearer(key)).status_code == 200
    )

    refused = client.get(f"/api/v1/audit?session_id={session}", headers=bearer(key))
    assert refused.status_code == 403
    answer = client.get(f"/api/v1/audit?session_id={session}", headers=bearer(ADMIN_TOKEN))
    assert answer.status_code == 200
    entries = answer.json()["entries"]
    assert [(e["actor"], e["action"]) for e in entries] == [
        (f"key:{key_id}", "delete_session_photos"),
        (f"key:{key_id}", "upload"),
    ]
    assert entries[1]["counts"] == {"accepted": 1, "duplicates": 0, "rejected": 0}
    assert settings.database_url is not None
    assert len(audit_rows(settings.database_url, session)) == 2
