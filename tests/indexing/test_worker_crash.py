"""A worker killed mid-batch loses nothing and doubles nothing: real worker processes, Redis."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from facepass.app import create_app
from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.indexing.reconciler import reconcile_once
from tests.indexing.conftest import photo_states, wait_for, worker_env
from tests.photos.conftest import upload
from tests.photos.images import face_jpeg, faceless_jpeg
from tests.pixora.fixtures import closed_port


def test_a_killed_worker_s_photos_are_finished_once_by_another(
    redis_settings: Settings,
    make_session,
    start_worker: Callable[..., object],
    own_db: Engine,
) -> None:
    session_id: uuid.UUID = make_session()
    # Large enough that a photo stays 'indexing' for a while; six photos in two messages.
    files = [(f"face{i}.jpg", face_jpeg(side=2400)) for i in range(4)]
    files += [(f"cup{i}.jpg", faceless_jpeg()) for i in range(2)]
    app = create_app(redis_settings, run_migrations=False, start_background=False)
    with TestClient(app) as client:
        answers = upload(client, session_id, files).json()["files"]
    expected_faces = {
        a["photo_id"]: (1 if a["filename"].startswith("face") else 0) for a in answers
    }

    first = start_worker(worker_env(redis_settings))
    wait_for(
        lambda: any(s == "indexing" for s, _ in photo_states(own_db, session_id).values()),
        timeout_s=90,
        interval_s=0.01,
    )
    os.killpg(first.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    first.wait()  # type: ignore[attr-defined]
    orphaned = {p for p, (s, _) in photo_states(own_db, session_id).items() if s == "indexing"}
    assert orphaned, "the worker was killed while it held a photo"

    app_context = AppContext.build(redis_settings)
    try:
        # The dead worker stops beating; after three missed beats its photos are handed out.
        wait_for(
            lambda: (
                set(
                    reconcile_once(
                        app_context.own_db, app_context.settings, app_context.index_queue
                    ).recovered
                )
                >= {uuid.UUID(p) for p in orphaned}
            ),
            timeout_s=10,
            interval_s=0.5,
        )
    finally:
        app_context.close()
    assert all(
        photo_states(own_db, session_id)[p][0] in ("pending", "indexing", "indexed")
        for p in orphaned
    )

    metrics_port = closed_port()
    second = start_worker(worker_env(redis_settings), "--metrics-port", str(metrics_port))
    wait_for(
        lambda: all(s == "indexed" for s, _ in photo_states(own_db, session_id).values()),
        timeout_s=90,
        interval_s=0.2,
    )
    metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    assert 'facepass_photos_indexed_total{outcome="indexed"}' in metrics
    os.killpg(second.pid, signal.SIGTERM)  # type: ignore[attr-defined]
    assert second.wait(timeout=60) == 0  # type: ignore[attr-defined]

    with own_db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.id, p.face_count, p.attempts, count(f.id) AS faces,"
                " count(DISTINCT f.box_left || ',' || f.box_top) AS distinct_boxes"
                " FROM photos p LEFT JOIN faces f ON f.photo_id = p.id"
                " WHERE p.session_id = :s GROUP BY p.id"
            ),
            {"s": session_id},
        ).all()
    assert {str(r.id): r.faces for r in rows} == expected_faces
    assert all(r.face_count == r.faces == r.distinct_boxes for r in rows)
    assert all(r.attempts >= 2 for r in rows if str(r.id) in orphaned)
