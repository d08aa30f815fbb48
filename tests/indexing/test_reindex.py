"""Re-indexing with a new model: searches use the old faces until the new index is complete."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text

from facepass.composition.context import AppContext
from facepass.engine import FaceEngine, get_engine
from facepass.engine.config import DEFAULT_EMBEDDER
from facepass.indexing.pipeline import IndexingContext, index_photo
from facepass.indexing.reindex import sessions_needing_model, start_reindex
from facepass.indexing.tasks import run_batch
from facepass.photos.service import active_model_id
from facepass.photos.vector_index import ensure_vector_index
from tests.indexing.conftest import add_photo
from tests.photos.images import face_jpeg, faceless_jpeg

OTHER_MODEL = f"{DEFAULT_EMBEDDER}-next"


def other_model_engine() -> FaceEngine:
    """The same networks under another model id: what a deployment sees after a model change."""
    base = get_engine()
    engine = FaceEngine(base.config, base.detector, base.embedder)
    engine.model_id = OTHER_MODEL
    return engine


def faces_by_model(own_db: Engine, session_id: uuid.UUID) -> dict[str, int]:
    with own_db.connect() as conn:
        rows = conn.execute(
            text("SELECT model_id, count(*) FROM faces WHERE session_id = :s GROUP BY model_id"),
            {"s": session_id},
        )
        return {model: count for model, count in rows}


def test_a_session_switches_model_only_when_its_new_index_is_complete(
    settings, own_db: Engine
) -> None:
    app_context = AppContext.build(settings)
    try:
        session_id = uuid.uuid4()
        old = IndexingContext(app_context.work, "old-worker", get_engine())
        photos = [add_photo(app_context, session_id, face_jpeg()) for _ in range(2)]
        photos.append(add_photo(app_context, session_id, faceless_jpeg()))
        run_batch(old, [str(p) for p in photos])
        with app_context.own_db.session() as db:
            assert active_model_id(db, session_id, "none") == DEFAULT_EMBEDDER
            assert session_id in sessions_needing_model(db, OTHER_MODEL)
            ensure_vector_index(db.connection(), OTHER_MODEL, get_engine().embedding_dim)
            queued = start_reindex(db, session_id, OTHER_MODEL)
        assert sorted(queued) == sorted(photos)

        # A worker still on the old model leaves the session's photos to the new one.
        assert index_photo(old, photos[0]) == "skipped"
        new = IndexingContext(app_context.work, "new-worker", other_model_engine())
        assert index_photo(new, photos[0]) == "indexed"
        # Half-way: searches still use the complete old index.
        with app_context.own_db.session() as db:
            assert active_model_id(db, session_id, "none") == DEFAULT_EMBEDDER
        assert faces_by_model(own_db, session_id) == {DEFAULT_EMBEDDER: 2, OTHER_MODEL: 1}

        run_batch(new, [str(p) for p in photos[1:]])
        with app_context.own_db.session() as db:
            assert active_model_id(db, session_id, "none") == OTHER_MODEL
            assert session_id not in sessions_needing_model(db, OTHER_MODEL)
        assert faces_by_model(own_db, session_id) == {OTHER_MODEL: 2}
    finally:
        app_context.close()


def test_facepass_reindex_rebuilds_sessions_of_an_older_model(
    redis_settings, own_db: Engine
) -> None:
    import dramatiq

    from facepass.cli.reindex_command import reindex_sessions
    from tests.indexing.conftest import photo_states, wait_for

    app_context = AppContext.build(redis_settings)
    worker = None
    try:
        session_id = uuid.uuid4()
        older = IndexingContext(app_context.work, "old-worker", other_model_engine())
        with app_context.own_db.session() as db:
            ensure_vector_index(db.connection(), OTHER_MODEL, get_engine().embedding_dim)
        photos = [add_photo(app_context, session_id, face_jpeg()) for _ in range(2)]
        run_batch(older, [str(p) for p in photos])
        assert faces_by_model(own_db, session_id) == {OTHER_MODEL: 2}

        report = reindex_sessions(redis_settings, session_id)
        assert report["model_id"] == DEFAULT_EMBEDDER
        assert (report["sessions"], report["photos"]) == ([str(session_id)], 2)
        worker = dramatiq.Worker(app_context.index_queue.broker, worker_threads=1)
        worker.start()
        wait_for(
            lambda: (
                all(s == "indexed" for s, _ in photo_states(own_db, session_id).values())
                and faces_by_model(own_db, session_id) == {DEFAULT_EMBEDDER: 2}
            ),
            timeout_s=60,
        )
        with app_context.own_db.session() as db:
            assert active_model_id(db, session_id, "none") == DEFAULT_EMBEDDER
    finally:
        if worker is not None:
            worker.stop()
        app_context.close()


def test_every_photo_rebuilds_a_sessions_faces_with_the_same_model(
    settings, own_db: Engine
) -> None:
    app_context = AppContext.build(settings)
    try:
        session_id = uuid.uuid4()
        context = IndexingContext(app_context.work, "worker", get_engine())
        photos = [add_photo(app_context, session_id, face_jpeg()) for _ in range(2)]
        run_batch(context, [str(p) for p in photos])
        with app_context.own_db.session() as db:
            assert start_reindex(db, session_id, DEFAULT_EMBEDDER) == []  # nothing to switch
            assert sorted(start_reindex(db, session_id, DEFAULT_EMBEDDER, every_photo=True)) == (
                sorted(photos)
            )
        # Searches keep the session's faces while each photo is rebuilt in place.
        assert faces_by_model(own_db, session_id) == {DEFAULT_EMBEDDER: 2}
        run_batch(context, [str(p) for p in photos])
        assert faces_by_model(own_db, session_id) == {DEFAULT_EMBEDDER: 2}
        with app_context.own_db.session() as db:
            assert active_model_id(db, session_id, "none") == DEFAULT_EMBEDDER
    finally:
        app_context.close()
