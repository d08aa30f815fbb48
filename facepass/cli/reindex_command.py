"""`facepass reindex`: rebuild sessions' faces with the configured model, session by session."""

from __future__ import annotations

import logging
import uuid
from contextlib import ExitStack
from typing import Any

from facepass.cli.bootstrap import worker_context
from facepass.config import Settings
from facepass.indexing.reindex import (
    sessions_needing_model,
    sessions_with_photos,
    start_reindex,
)
from facepass.photos.vector_index import ensure_vector_index

logger = logging.getLogger(__name__)


def reindex_sessions(
    settings: Settings, session_id: uuid.UUID | None = None, *, every_photo: bool = False
) -> dict[str, Any]:
    """Put sessions' photos back in the queue for the configured model; returns a report.

    Searches keep using each session's current model until its new index is complete. With
    `every_photo`, photos already indexed by this model are rebuilt too (see start_reindex).
    """
    with ExitStack() as cleanup:
        work = cleanup.enter_context(worker_context(settings))
        engine = work.engines.get()
        with work.own_db.engine.begin() as conn:
            ensure_vector_index(conn, engine.model_id, engine.embedding_dim)
        with work.own_db.session() as db:
            if session_id is not None:
                sessions = [session_id]
            elif every_photo:
                sessions = sessions_with_photos(db)
            else:
                sessions = sessions_needing_model(db, engine.model_id)
        # The in-process queue lives in the API process: its reconciler queues these photos.
        queue = None
        if work.settings.queue_backend != "inprocess":
            from facepass.indexing.queue import build_index_queue

            queue = build_index_queue(work)
            cleanup.callback(queue.close)
        queued = 0
        for session in sessions:
            with work.own_db.session() as db:
                photo_ids = start_reindex(db, session, engine.model_id, every_photo=every_photo)
            if queue is not None:
                queue.enqueue(photo_ids)
            queued += len(photo_ids)
        return {
            "model_id": engine.model_id,
            "sessions": [str(s) for s in sessions],
            "photos": queued,
            "queued_by": "reconciler of the running server" if queue is None else "queue",
        }
