"""Regrouping a session in the database: per session, cannot-link, stable ids, the debounce."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import dramatiq
import numpy as np
import pytest
from sqlalchemy import Engine, text

from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.people.tasks import regroup_session
from tests.people.conftest import add_photo, person_faces


@pytest.fixture
def app_context(settings: Settings) -> Iterator[AppContext]:
    owned = AppContext.build(settings.model_copy(update={"people_regroup_delay_s": 0.0}))
    yield owned
    owned.close()


def _people(engine: Engine, session_id: uuid.UUID) -> dict[uuid.UUID, set[int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.id, pf.face_id FROM people p JOIN person_faces pf ON pf.person_id = p.id"
                " WHERE p.session_id = :s"
            ),
            {"s": session_id},
        ).all()
    people: dict[uuid.UUID, set[int]] = {}
    for person_id, face_id in rows:
        people.setdefault(person_id, set()).add(face_id)
    return people


def test_each_session_is_grouped_alone_and_one_photo_never_holds_one_person_twice(
    app_context: AppContext, own_engine: Engine
) -> None:
    rng = np.random.default_rng(10)
    anna, boris = person_faces(rng, 6), person_faces(rng, 6)
    first, second = uuid.uuid4(), uuid.uuid4()
    faces_of: dict[uuid.UUID, set[int]] = {first: set(), second: set()}
    for session in (first, second):  # the same people in two sessions
        for a, b in zip(anna[:4], boris[:4], strict=True):
            faces_of[session].update(add_photo(own_engine, session, [a, b]).face_ids)
    # Anna twice in one photo (a mirror): still two people.
    mirror = add_photo(own_engine, first, [anna[4], anna[5]])
    faces_of[first].update(mirror.face_ids)

    for session in (first, second):
        result = regroup_session(app_context.work, session)
        assert result is not None
        assert result.faces == len(faces_of[session])

    first_people, second_people = _people(own_engine, first), _people(own_engine, second)
    assert set().union(*first_people.values()) == faces_of[first]
    assert set().union(*second_people.values()) == faces_of[second]
    assert not set(first_people) & set(second_people)
    assert sorted(len(f) for f in second_people.values()) == [4, 4]
    assert not any(set(mirror.face_ids) <= faces for faces in first_people.values())


def test_a_regrouping_keeps_the_ids_of_people_who_are_still_there(
    app_context: AppContext, own_engine: Engine
) -> None:
    rng = np.random.default_rng(11)
    anna, boris = person_faces(rng, 8), person_faces(rng, 8)
    session = uuid.uuid4()
    for a, b in zip(anna[:5], boris[:5], strict=True):
        add_photo(own_engine, session, [a, b])
    regroup_session(app_context.work, session)
    before = _people(own_engine, session)
    for a in anna[5:]:
        add_photo(own_engine, session, [a])
    result = regroup_session(app_context.work, session)
    assert result is not None
    assert result.kept_ids == 2
    after = _people(own_engine, session)
    assert set(after) == set(before)
    grown = [person for person in after if len(after[person]) == 8]
    assert len(grown) == 1
    assert before[grown[0]] < after[grown[0]]


@pytest.mark.parametrize("backend", ["inprocess", "redis"])
def test_indexing_asks_once_and_the_debounced_task_regroups_the_session(
    settings: Settings, own_engine: Engine, backend: str
) -> None:
    app_context = AppContext.build(
        settings.model_copy(update={"people_regroup_delay_s": 0.2, "queue_backend": backend})
    )
    try:
        _burst_then_regroup(app_context, own_engine)
    finally:
        app_context.close()


def _burst_then_regroup(app_context: AppContext, own_engine: Engine) -> None:
    rng = np.random.default_rng(12)
    session = uuid.uuid4()
    photos = [add_photo(own_engine, session, [face]) for face in person_faces(rng, 4)]
    people = app_context.index_queue.people
    assert people is not None
    queue = app_context.index_queue
    # Four indexed photos in a burst: one message.
    sent = sum(people.request_for_photos([photo.photo_id]) for photo in photos)
    assert sent == 1
    assert queue.depth() == 0  # delayed messages wait on the side
    worker = dramatiq.Worker(queue.broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not _people(own_engine, session) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    grouped = _people(own_engine, session)
    assert [len(faces) for faces in grouped.values()] == [4]
    with own_engine.connect() as conn:
        state = conn.execute(
            text("SELECT pending_since, faces FROM people_groupings WHERE session_id = :s"),
            {"s": session},
        ).one()
    assert state.pending_since is None
    assert state.faces == 4


def test_the_regroup_command_reports_each_session(settings: Settings, own_engine: Engine) -> None:
    from facepass.cli.regroup_command import regroup_sessions

    rng = np.random.default_rng(13)
    session = uuid.uuid4()
    for face in person_faces(rng, 3):
        add_photo(own_engine, session, [face])
    report = regroup_sessions(settings, session)
    assert report == {
        "sessions": [
            {
                "session_id": str(session),
                "model_id": "dlib-resnet-v1",
                "faces": 3,
                "people": 1,
                "kept_ids": 0,
                "took_ms": report["sessions"][0]["took_ms"],
            }
        ]
    }


def test_the_reconciler_resends_a_lost_regrouping(settings: Settings, own_engine: Engine) -> None:
    from facepass.indexing.reconciler import reconcile_once

    app_context = AppContext.build(settings.model_copy(update={"people_regroup_max_wait_s": 0.0}))
    try:
        session = uuid.uuid4()
        with own_engine.begin() as conn:
            # Asked for two minutes ago, its message scheduled then and lost since.
            conn.execute(
                text(
                    "INSERT INTO people_groupings (session_id, requested_at, pending_since,"
                    " scheduled_for) VALUES (:s, now() - interval '2 minutes',"
                    " now() - interval '2 minutes', now() - interval '2 minutes')"
                ),
                {"s": session},
            )
        report = reconcile_once(app_context.own_db, app_context.settings, app_context.index_queue)
        assert session in report.regroups_resent
        again = reconcile_once(app_context.own_db, app_context.settings, app_context.index_queue)
        assert session not in again.regroups_resent  # scheduled now: not lost
    finally:
        app_context.close()
