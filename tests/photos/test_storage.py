"""Both storage backends keep the same contract; S3 runs against moto's server over HTTP."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from facepass.app import create_app
from facepass.config import Settings
from facepass.photos.storage import (
    LocalStorage,
    ObjectNotFound,
    PhotoStorage,
    S3Storage,
    build_storage,
    original_key,
    thumbnail_key,
)
from tests.photos.conftest import ADMIN, upload, wait_until_indexed
from tests.photos.images import face_jpeg


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    bucket = f"photos-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoStorage:
    if request.param == "local":
        return LocalStorage(tmp_path / "photos")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Storage(bucket, prefix="fp/", endpoint_url=endpoint, region="us-east-1")


def test_the_storage_contract(storage: PhotoStorage) -> None:
    session_id, photo_id = uuid.uuid4(), uuid.uuid4()
    key = original_key(session_id, photo_id)
    assert not storage.exists(key)
    storage.put(key, io.BytesIO(b"original bytes"), "image/jpeg")
    storage.put(thumbnail_key(session_id, photo_id, "thumb"), b"thumb", "image/jpeg")
    storage.put(thumbnail_key(session_id, photo_id, "large"), b"large", "image/jpeg")
    assert storage.exists(key)
    assert storage.get(key) == b"original bytes"
    with storage.open(key) as stream:
        assert stream.read() == b"original bytes"
    storage.put(key, b"replaced", "image/jpeg")
    assert storage.get(key) == b"replaced"
    other = original_key(uuid.uuid4(), uuid.uuid4())
    storage.put(other, b"another session", "image/jpeg")

    storage.delete(key)
    storage.delete(key)  # deleting twice is fine
    assert not storage.exists(key)
    with pytest.raises(ObjectNotFound):
        storage.get(key)
    assert storage.delete_prefix(f"sessions/{session_id}/") == 2
    assert not storage.exists(thumbnail_key(session_id, photo_id, "thumb"))
    assert storage.get(other) == b"another session"


@pytest.mark.parametrize("key", ["", "../escape", "sessions/../../etc/passwd", "/abs"])
def test_keys_cannot_escape_the_store(storage: PhotoStorage, key: str) -> None:
    with pytest.raises(ValueError, match="invalid storage key"):
        storage.put(key, b"x", "image/jpeg")


def test_photos_index_on_the_s3_backend(
    settings: Settings, s3_endpoint: str, s3_bucket: str, make_session
) -> None:
    s3_settings = settings.model_copy(
        update={"storage_backend": "s3", "s3_bucket": s3_bucket, "s3_endpoint_url": s3_endpoint}
    )
    session_id = make_session()
    face = face_jpeg()
    with TestClient(create_app(s3_settings, run_migrations=False)) as client:
        photo_id = upload(client, session_id, [("a.jpg", face)]).json()["files"][0]["photo_id"]
        assert wait_until_indexed(client, session_id)["faces_indexed"] == 1
        storage = build_storage(s3_settings)
        assert isinstance(storage, S3Storage)
        assert storage.get(original_key(session_id, photo_id)) == face
        assert storage.exists(thumbnail_key(session_id, photo_id, "large"))
        deleted = client.delete(f"/api/v1/sessions/{session_id}/photos", headers=ADMIN).json()
        assert deleted["deleted_files"] == 3
    listing = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    assert listing.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0
    assert not (settings.data_dir / "photos").exists()  # nothing went to the local disk


def test_an_upload_during_a_storage_outage_asks_for_a_retry(
    settings: Settings, make_session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.pixora.fixtures import closed_port

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    down = settings.model_copy(
        update={
            "storage_backend": "s3",
            "s3_bucket": "photos",
            "s3_endpoint_url": f"http://127.0.0.1:{closed_port()}",
        }
    )
    with TestClient(create_app(down, run_migrations=False, start_background=False)) as client:
        response = upload(client, make_session(), [("a.jpg", face_jpeg())])
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "STORAGE_UNAVAILABLE"
