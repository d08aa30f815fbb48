"""The reconciler re-queues what a crash lost, and only that."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text

from facepass.composition.context import AppContext
from facepass.indexing.heartbeat import beat
from facepass.indexing.reconciler import reconcile_once
from tests.indexing.conftest import add_photo
from tests.photos.images import faceless_jpeg


def set_photo(own_db: Engine, photo_id: uuid.UUID, **values: object) -> None:
    assignments = ", ".join(f"{k} = :{k}" for k in values)
    with own_db.begin() as conn:
        conn.execute(
            text(f"UPDATE photos SET {assignments} WHERE id = :id"), {**values, "id": photo_id}
        )


def test_claims_of_dead_workers_and_lost_messages_are_requeued(settings, own_db) -> None:
    # The queue depth below counts photo messages only: people regroupings that other tests left
    # overdue in the shared database would otherwise be re-sent onto the same queue.
    app_context = AppContext.build(settings.model_copy(update={"people_grouping": False}))
    queue = app_context.index_queue
    try:
        session_id = uuid.uuid4()
        alive, dead, lost, fresh = (
            add_photo(app_context, session_id, faceless_jpeg()) for _ in range(4)
        )
        beat(app_context.own_db, "alive-worker", None)
        set_photo(own_db, alive, status="indexing", worker_id="alive-worker")
        set_photo(own_db, dead, status="indexing", worker_id="gone-worker")
        with own_db.begin() as conn:
            conn.execute(
                text("UPDATE photos SET updated_at = now() - interval '1 hour' WHERE id = :id"),
                {"id": lost},
            )

        queue.enqueue([uuid.uuid4()])  # something is waiting: pending photos may be queued
        report = reconcile_once(app_context.own_db, app_context.settings, queue)
        assert report.ran
        assert dead in report.recovered
        assert alive not in report.recovered
        assert lost not in report.requeued

        queue.broker.flush_all()  # type: ignore[attr-defined]
        # A grace longer than the test run: photos other tests left pending (the database is
        # shared by the whole run) are not this test's; `lost` (an hour old) still qualifies.
        report = reconcile_once(
            app_context.own_db, app_context.settings, queue, pending_grace_s=1800
        )
        assert (
            lost in report.requeued
        )  # queue empty and the photo long pending: its message is lost
        assert fresh not in report.requeued  # just uploaded: its message may be on its way
        assert queue.depth() == 1  # one message (batch size 2) carries what was re-queued
    finally:
        app_context.close()
