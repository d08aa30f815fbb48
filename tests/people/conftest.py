"""People fixtures: sessions of synthetic faces written straight into FacePass's database.

Where the face engine is not what a test is about, faces are small synthetic embeddings
inserted as the indexing pipeline would store them (a photo row, its faces, the session's
index); the grouping, the endpoints and search then run for real on them.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import Engine, create_engine, text

from facepass.db import sqlalchemy_url
from facepass.search.vector_search import vector_literal

MODEL_ID = "dlib-resnet-v1"
DIM = 128

_PHOTO = text(
    """
    INSERT INTO photos (id, session_id, sha256, original_filename, storage_key, content_type,
                        size_bytes, status, width, height, face_count, model_id, indexed_at)
    VALUES (:id, :s, :sha, :name, :key, 'image/jpeg', 1000, 'indexed', 640, 480, :n, :m, now())
    """
)
_FACE = text(
    """
    INSERT INTO faces (photo_id, session_id, model_id, box_left, box_top, box_right, box_bottom,
                       detection_score, size_px, sharpness, yaw, pitch, roll, indexable, embedding)
    VALUES (:p, :s, :m, :left, 100, :right, 200, 0.9, 100, 50, 0, 0, 0, true, CAST(:e AS vector))
    RETURNING id
    """
)
_INDEX = text(
    "INSERT INTO session_indexes (session_id, active_model_id) VALUES (:s, :m)"
    " ON CONFLICT DO NOTHING"
)


@dataclass
class StoredPhoto:
    photo_id: uuid.UUID
    face_ids: list[int]


def unit(vector: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def person_faces(
    rng: np.random.Generator, count: int, spread: float = 0.15
) -> list[npt.NDArray[np.float32]]:
    """`count` faces of one synthetic person (cosine distances to each other ~0.01-0.03)."""
    centre = rng.standard_normal(DIM)
    centre /= np.linalg.norm(centre)
    return [unit(centre + rng.standard_normal(DIM) * spread / np.sqrt(DIM)) for _ in range(count)]


def add_photo(
    engine: Engine, session_id: uuid.UUID, faces: Sequence[npt.NDArray[np.float32]]
) -> StoredPhoto:
    """An indexed photo with these face embeddings, as the pipeline would have stored it."""
    photo_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            _PHOTO,
            {
                "id": photo_id,
                "s": session_id,
                "sha": hashlib.sha256(photo_id.bytes).hexdigest(),
                "name": f"{photo_id.hex[:8]}.jpg",
                "key": f"sessions/{session_id}/originals/{photo_id}",
                "n": len(faces),
                "m": MODEL_ID,
            },
        )
        conn.execute(_INDEX, {"s": session_id, "m": MODEL_ID})
        face_ids = [
            conn.execute(
                _FACE,
                {
                    "p": photo_id,
                    "s": session_id,
                    "m": MODEL_ID,
                    "left": 10.0 + 150 * i,
                    "right": 110.0 + 150 * i,
                    "e": vector_literal(face),
                },
            ).scalar_one()
            for i, face in enumerate(faces)
        ]
    return StoredPhoto(photo_id, face_ids)


@pytest.fixture(scope="module")
def own_engine(own_db_url: str) -> Iterator[Engine]:
    engine = create_engine(sqlalchemy_url(own_db_url))
    yield engine
    engine.dispose()
