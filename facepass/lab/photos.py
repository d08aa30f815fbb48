"""Photos stored for the lab and the tests, which drive indexing themselves."""

from __future__ import annotations

import hashlib
import uuid

from facepass.db import OwnDatabase
from facepass.photos.models import PENDING, Photo
from facepass.photos.storage import PhotoStorage, original_key


def add_photo(
    own_db: OwnDatabase,
    storage: PhotoStorage,
    session_id: uuid.UUID,
    data: bytes,
    filename: str,
    content_type: str = "image/jpeg",
) -> uuid.UUID:
    """Store an original held in memory and its 'pending' row, without queueing it.

    For callers that drive indexing themselves (benchmarks, tests); uploads go through
    `store_uploads`, which streams, de-duplicates and queues.
    """
    photo_id = uuid.uuid4()
    key = original_key(session_id, photo_id)
    storage.put(key, data, content_type)
    with own_db.session() as db:
        db.add(
            Photo(
                id=photo_id,
                session_id=session_id,
                sha256=hashlib.sha256(data).hexdigest(),
                original_filename=filename,
                storage_key=key,
                content_type=content_type,
                size_bytes=len(data),
                status=PENDING,
            )
        )
    return photo_id
