"""The shared schema as migration 0002 creates it."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facepass.db import sqlalchemy_url
from facepass.photos.models import Face, Photo
from facepass.photos.vector_index import ensure_vector_index, knn_expression, vector_index_name


@pytest.fixture
def db(own_db_url: str):
    engine = create_engine(sqlalchemy_url(own_db_url))
    with Session(engine) as session:
        yield session
        session.rollback()
    engine.dispose()


def _photo(session_id: uuid.UUID, sha: str) -> Photo:
    photo_id = uuid.uuid4()
    return Photo(
        id=photo_id,
        session_id=session_id,
        sha256=sha,
        original_filename="a.jpg",
        storage_key=f"sessions/{session_id}/originals/{photo_id}",
        content_type="image/jpeg",
        size_bytes=10,
    )


def test_same_content_twice_in_one_session_is_refused(db: Session) -> None:
    session_id = uuid.uuid4()
    db.add(_photo(session_id, "ab" * 32))
    db.flush()
    db.add(_photo(uuid.uuid4(), "ab" * 32))  # another session may hold the same file
    db.flush()
    db.add(_photo(session_id, "ab" * 32))
    with pytest.raises(IntegrityError):
        db.flush()


def test_faces_of_two_models_coexist_and_knn_uses_the_partial_index(db: Session) -> None:
    session_id = uuid.uuid4()
    photo = _photo(session_id, "cd" * 32)
    db.add(photo)
    db.flush()
    ensure_vector_index(db.connection(), "test-model-3d", 3)
    for model_id, dim in (("dlib-resnet-v1", 128), ("test-model-3d", 3)):
        vector = np.ones(dim, dtype=np.float32) / np.sqrt(dim)
        db.add(
            Face(
                photo_id=photo.id,
                session_id=session_id,
                model_id=model_id,
                box_left=0,
                box_top=0,
                box_right=1,
                box_bottom=1,
                detection_score=0.9,
                size_px=50,
                sharpness=10,
                yaw=0,
                pitch=0,
                roll=0,
                indexable=True,
                embedding=vector,
            )
        )
    db.flush()
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        row[0]
        for row in db.execute(
            text(
                "EXPLAIN SELECT id FROM faces WHERE model_id = 'test-model-3d' "
                f"ORDER BY {knn_expression(3)} LIMIT 5"
            ),
            {"q": "[1,0,0]"},
        )
    )
    assert vector_index_name("test-model-3d") in plan
    found = db.execute(
        text("SELECT count(*) FROM faces WHERE session_id = :s AND model_id = 'dlib-resnet-v1'"),
        {"s": session_id},
    ).scalar_one()
    assert found == 1
    db.delete(photo)
    db.flush()
    remaining = db.execute(
        text("SELECT count(*) FROM faces WHERE session_id = :s"), {"s": session_id}
    ).scalar_one()
    assert remaining == 0
