"""Upload → stored → indexed, through the real app, database, storage and face engine."""

from __future__ import annotations

import hashlib
import io

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import create_engine, text

from facepass.config import Settings
from facepass.db import sqlalchemy_url
from facepass.engine.config import DEFAULT_EMBEDDER
from facepass.photos.storage import LocalStorage, original_key, thumbnail_key
from tests.photos.conftest import ADMIN, upload, wait_until_indexed
from tests.photos.images import corrupt_jpeg, face_jpeg, faceless_jpeg


def test_uploaded_photos_are_indexed_and_a_corrupt_one_fails_alone(
    client: TestClient, settings: Settings, make_session
) -> None:
    session_id = make_session()
    face, faceless, corrupt = face_jpeg(), faceless_jpeg(), corrupt_jpeg()
    response = upload(
        client,
        session_id,
        [
            ("astronaut.jpg", face),
            ("coffee.jpg", faceless),
            ("broken.jpg", corrupt),
            ("notes.txt", b"not an image at all"),
            ("empty.jpg", b""),
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (3, 0, 2)
    by_name = {f["filename"]: f for f in body["files"]}
    assert by_name["astronaut.jpg"]["sha256"] == hashlib.sha256(face).hexdigest()
    assert by_name["astronaut.jpg"]["status"] == "pending"
    assert by_name["notes.txt"]["error"]["code"] == "UNSUPPORTED_TYPE"
    assert by_name["empty.jpg"]["error"]["code"] == "EMPTY_FILE"

    status = wait_until_indexed(client, session_id)
    assert status["photos"] == {"total": 3, "pending": 0, "indexing": 0, "indexed": 2, "failed": 1}
    assert status["failures"] == {"CORRUPT_IMAGE": 1}
    assert status["faces_indexed"] == 1
    assert status["model"] == {"active": DEFAULT_EMBEDDER, "building": None}

    listed = client.get(f"/api/v1/sessions/{session_id}/photos", headers=ADMIN).json()
    photos = {p["original_filename"]: p for p in listed["items"]}
    assert photos["astronaut.jpg"]["face_count"] == 1
    assert (photos["astronaut.jpg"]["width"], photos["astronaut.jpg"]["height"]) == (512, 512)
    assert photos["coffee.jpg"]["face_count"] == 0
    assert photos["broken.jpg"]["status"] == "failed"
    assert photos["broken.jpg"]["failure_code"] == "CORRUPT_IMAGE"

    storage = LocalStorage(settings.data_dir / "photos")
    astronaut_id = photos["astronaut.jpg"]["id"]
    assert storage.get(original_key(session_id, astronaut_id)) == face  # never modified
    large = Image.open(io.BytesIO(storage.get(thumbnail_key(session_id, astronaut_id, "large"))))
    thumb = Image.open(io.BytesIO(storage.get(thumbnail_key(session_id, astronaut_id, "thumb"))))
    assert large.format == thumb.format == "JPEG"
    assert large.size == (512, 512)  # never enlarged
    assert thumb.size == (320, 320)

    engine = create_engine(sqlalchemy_url(settings.database_url or ""))
    with engine.connect() as conn:
        faces = conn.execute(
            text(
                "SELECT model_id, vector_dims(embedding), indexable FROM faces WHERE photo_id = :p"
            ),
            {"p": astronaut_id},
        ).all()
    engine.dispose()
    assert [tuple(f) for f in faces] == [(DEFAULT_EMBEDDER, 256, True)]

    metrics = client.get("/metrics").text
    assert 'facepass_photos_indexed_total{outcome="failed"}' in metrics
    assert "facepass_faces_indexed_total" in metrics
    assert "facepass_indexing_seconds_count" in metrics


def test_the_same_bytes_twice_give_the_existing_photo(client: TestClient, make_session) -> None:
    session_id = make_session()
    face = face_jpeg()
    first = upload(client, session_id, [("a.jpg", face), ("a-copy.jpg", face)]).json()
    assert [f["duplicate"] for f in first["files"]] == [False, True]
    assert first["files"][0]["photo_id"] == first["files"][1]["photo_id"]
    again = upload(client, session_id, [("renamed.jpg", face)]).json()
    assert again["duplicates"] == 1
    assert again["files"][0]["photo_id"] == first["files"][0]["photo_id"]
    wait_until_indexed(client, session_id)
    listed = client.get(f"/api/v1/sessions/{session_id}/photos", headers=ADMIN).json()
    assert listed["total"] == 1
    # The same file in another session is another photo.
    other = make_session()
    assert upload(client, other, [("a.jpg", face)]).json()["accepted"] == 1
    wait_until_indexed(client, other)
