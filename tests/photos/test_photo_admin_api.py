"""Admin rules of the photo endpoints: token, known sessions, limits, listing and deletion."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.config import Settings
from facepass.photos.storage import LocalStorage, original_key, thumbnail_key
from facepass.pixora.demo import DISABLED_SESSION_ID
from tests.photos.conftest import ADMIN, upload, wait_until_indexed
from tests.photos.images import face_jpeg, faceless_jpeg


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/photos"),
        ("GET", "/photos"),
        ("POST", "/photos/check"),
        ("DELETE", "/photos"),
        ("DELETE", f"/photos/{uuid.uuid4()}"),
        ("GET", "/index-status"),
    ],
)
@pytest.mark.parametrize("auth", [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz"])
def test_every_photo_endpoint_needs_the_admin_token(
    client: TestClient, method: str, path: str, auth: str | None
) -> None:
    headers = {"Authorization": auth} if auth else {}
    response = client.request(method, f"/api/v1/sessions/{uuid.uuid4()}{path}", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"] == "Bearer"


def test_uploads_go_only_to_sessions_pixora_knows(client: TestClient) -> None:
    unknown = upload(client, uuid.uuid4(), [("a.jpg", face_jpeg())])
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "SESSION_NOT_FOUND"
    # Studios upload before they turn FacePass on: a FacePass-off session takes photos.
    off = upload(client, uuid.UUID(DISABLED_SESSION_ID), [("a.jpg", faceless_jpeg())])
    assert off.status_code == 200
    assert off.json()["accepted"] == 1
    wait_until_indexed(client, uuid.UUID(DISABLED_SESSION_ID))
    client.delete(f"/api/v1/sessions/{DISABLED_SESSION_ID}/photos", headers=ADMIN)


def test_size_and_count_limits_are_per_file_answers(settings: Settings, make_session) -> None:
    small = face_jpeg(side=128)
    limited = settings.model_copy(
        update={"max_upload_bytes": len(small) + 10, "max_files_per_upload": 2}
    )
    session_id = make_session()
    with TestClient(create_app(limited, run_migrations=False, start_background=False)) as client:
        response = upload(
            client,
            session_id,
            [("big.jpg", face_jpeg()), ("small.jpg", small), ("third.jpg", faceless_jpeg())],
        )
    assert response.status_code == 200
    codes = [(f["filename"], (f["error"] or {}).get("code")) for f in response.json()["files"]]
    assert codes == [
        ("big.jpg", "FILE_TOO_LARGE"),
        ("small.jpg", None),
        ("third.jpg", "TOO_MANY_FILES"),
    ]
    assert list((settings.data_dir / "tmp").iterdir()) == []  # no spooled file left behind


def test_a_non_multipart_body_is_refused(client: TestClient, make_session) -> None:
    response = client.post(
        f"/api/v1/sessions/{make_session()}/photos", content=b"{}", headers=ADMIN
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_UPLOAD"


def test_listing_pages_filters_and_hash_check(client: TestClient, make_session) -> None:
    session_id = make_session()
    files = [(f"p{i}.jpg", faceless_jpeg()) for i in range(5)]
    uploaded = upload(client, session_id, files).json()["files"]
    wait_until_indexed(client, session_id)
    base = f"/api/v1/sessions/{session_id}/photos"
    first = client.get(base, params={"limit": 2}, headers=ADMIN).json()
    second = client.get(base, params={"limit": 2, "offset": 2}, headers=ADMIN).json()
    assert first["total"] == 5
    assert len(first["items"]) == len(second["items"]) == 2
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}
    item = first["items"][0]
    assert set(item) >= {
        "id",
        "original_filename",
        "sha256",
        "status",
        "failure_code",
        "failure_detail",
        "face_count",
    }
    assert client.get(base, params={"status": "failed"}, headers=ADMIN).json()["total"] == 0
    assert client.get(base, params={"status": "indexed"}, headers=ADMIN).json()["total"] == 5
    assert client.get(base, params={"status": "bogus"}, headers=ADMIN).status_code == 422

    unknown = "0" * 64
    known = client.post(
        f"{base}/check", json={"sha256": [uploaded[0]["sha256"], unknown]}, headers=ADMIN
    ).json()["known"]
    assert set(known) == {uploaded[0]["sha256"]}
    assert known[uploaded[0]["sha256"]]["photo_id"] == uploaded[0]["photo_id"]


def test_deleting_photos_removes_rows_faces_and_files(
    client: TestClient, settings: Settings, make_session
) -> None:
    session_id = make_session()
    uploaded = upload(client, session_id, [("a.jpg", face_jpeg()), ("b.jpg", faceless_jpeg())])
    first, second = (f["photo_id"] for f in uploaded.json()["files"])
    wait_until_indexed(client, session_id)
    storage = LocalStorage(settings.data_dir / "photos")
    assert storage.exists(thumbnail_key(session_id, first, "thumb"))

    base = f"/api/v1/sessions/{session_id}/photos"
    assert client.delete(f"{base}/{first}", headers=ADMIN).status_code == 204
    assert not storage.exists(original_key(session_id, first))
    assert not storage.exists(thumbnail_key(session_id, first, "thumb"))
    assert storage.exists(original_key(session_id, second))
    status = client.get(f"/api/v1/sessions/{session_id}/index-status", headers=ADMIN).json()
    assert (status["photos"]["total"], status["faces_indexed"]) == (1, 0)
    again = client.delete(f"{base}/{first}", headers=ADMIN)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "PHOTO_NOT_FOUND"

    everything = client.delete(base, headers=ADMIN).json()
    assert everything["deleted_photos"] == 1
    assert everything["deleted_files"] == 3  # original, thumb, large
    assert not (settings.data_dir / "photos" / "sessions" / str(session_id)).exists()
    assert client.get(base, headers=ADMIN).json()["total"] == 0
