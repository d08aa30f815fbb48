"""`facepass worker --processes N`: the children work with the settings the supervisor has."""

from __future__ import annotations

import multiprocessing
import os
import signal
import uuid

from sqlalchemy import Engine

from facepass.composition.context import AppContext
from facepass.composition.worker import run_workers
from facepass.config import Settings
from tests.indexing.conftest import add_photo, photo_states, wait_for
from tests.photos.images import face_jpeg


def test_children_index_with_the_supervisor_s_settings_not_the_environment(
    redis_settings: Settings, make_session, own_db: Engine
) -> None:
    # This deployment's queue (a random name) and database exist only in `redis_settings`: a
    # child that read its settings from the environment would never see the photo.
    session_id: uuid.UUID = make_session()
    app_context = AppContext.build(redis_settings)
    supervisor = multiprocessing.get_context("spawn").Process(
        target=run_workers, args=(redis_settings, 2, 1)
    )
    try:
        photo_id = add_photo(app_context, session_id, face_jpeg())
        supervisor.start()
        app_context.index_queue.enqueue([photo_id])
        wait_for(
            lambda: photo_states(own_db, session_id)[str(photo_id)][0] == "indexed",
            timeout_s=180,
            interval_s=0.2,
        )
    finally:
        if supervisor.pid is not None and supervisor.is_alive():
            os.kill(supervisor.pid, signal.SIGTERM)  # children finish, then the supervisor
            supervisor.join(120)
        app_context.close()
    assert supervisor.exitcode == 0
