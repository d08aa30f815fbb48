"""Regrouping a session's people: now (`regroup_session`), or debounced after indexing.

Indexing a photo asks for a regrouping of its session (`request_regroup`): the request is
recorded in `people_groupings` and, unless a message is already on its way, one
`regroup_people` message is sent with a delay, on the indexing queue (Dramatiq: in-process when
embedded, Redis/RabbitMQ workers otherwise). When it arrives, it waits for a quiet gap of
`people_regroup_delay_s` since the last request (at most `people_regroup_max_wait_s` after the
first), then regroups the whole session once. A thousand photos arriving in a burst thus cost a
few regroupings, not a thousand. The database is the source of truth: a lost message is
replaced by the next request (a schedule older than the maximum wait counts as lost) or by the
indexing reconciler (`resend_lost`), and `facepass people regroup` regroups on demand.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import dramatiq
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Uuid

from facepass.people.grouping import GroupingParams, group_faces
from facepass.people.store import load_faces, save_grouping, try_lock_session

if TYPE_CHECKING:
    from facepass.config import Settings
    from facepass.db import OwnDatabase
    from facepass.engine_config import Engines

logger = logging.getLogger(__name__)


class PeopleWork(Protocol):
    """The process's parts grouping uses (a PeopleWork of facepass.composition has them)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def own_db(self) -> OwnDatabase: ...
    @property
    def engines(self) -> Engines: ...


ACTOR_NAME = "regroup_people"
ACTOR_OPTIONS: dict[str, Any] = {
    "max_retries": 5,
    "min_backoff": 5_000,
    "max_backoff": 300_000,
    "time_limit": 60 * 60_000,
}


@dataclass(frozen=True, slots=True)
class RegroupResult:
    session_id: uuid.UUID
    model_id: str
    faces: int
    people: int
    kept_ids: int
    took_ms: int


def _active_model(conn: Connection, session_id: uuid.UUID, default: str) -> str:
    found = conn.execute(
        text("SELECT active_model_id FROM session_indexes WHERE session_id = :s"),
        {"s": session_id},
    ).scalar_one_or_none()
    return str(found) if found else default


_RECORD_DONE = text(
    """
    INSERT INTO people_groupings AS g (session_id, grouped_at, model_id, faces, people, took_ms)
    VALUES (:s, now(), :m, :faces, :people, :ms)
    ON CONFLICT (session_id) DO UPDATE SET
        grouped_at = now(), model_id = :m, faces = :faces, people = :people, took_ms = :ms,
        -- Asked again while we worked (after our transaction began): still pending.
        pending_since = CASE WHEN g.requested_at > now() THEN g.pending_since END
    """
)


def regroup_session(
    work: PeopleWork, session_id: uuid.UUID, params: GroupingParams | None = None
) -> RegroupResult | None:
    """Group the session's faces of its active model now; None if another process is at it."""
    started = time.perf_counter()
    with work.own_db.engine.begin() as conn:
        if not try_lock_session(conn, session_id):
            return None
        model_id = _active_model(conn, session_id, work.engines.get().model_id)
        engine = work.engines.for_model(model_id)
        params = params or GroupingParams.for_model(
            engine.people_factors,
            work.settings.people_average_factor,
            work.settings.people_edge_factor,
        )
        faces = load_faces(conn, session_id, model_id, engine.embedding_dim)
        grouping = group_faces(
            faces.vectors, faces.photo_codes, engine.match_threshold, params, faces.pin_codes
        )
        saved = save_grouping(conn, session_id, model_id, faces, grouping)
        took_ms = round((time.perf_counter() - started) * 1000)
        conn.execute(
            _RECORD_DONE,
            {
                "s": session_id,
                "m": model_id,
                "faces": saved.faces,
                "people": saved.people,
                "ms": took_ms,
            },
        )
    logger.info(
        "people regrouped",
        extra={
            "session_id": str(session_id),
            "faces": saved.faces,
            "people": saved.people,
            "kept_ids": saved.kept_ids,
            "took_ms": took_ms,
        },
    )
    return RegroupResult(session_id, model_id, saved.faces, saved.people, saved.kept_ids, took_ms)


_REQUEST = text(
    """
    INSERT INTO people_groupings AS g (session_id, requested_at, pending_since)
    VALUES (:s, now(), now())
    ON CONFLICT (session_id) DO UPDATE
        SET requested_at = now(), pending_since = coalesce(g.pending_since, now())
    RETURNING g.scheduled_for IS NULL OR g.scheduled_for < now() - make_interval(secs => :stale)
        AS must_send
    """
)
_SCHEDULE = text(
    "UPDATE people_groupings SET scheduled_for = now() + make_interval(secs => :delay)"
    " WHERE session_id = :s"
)
_SESSIONS_OF = text(
    "SELECT DISTINCT session_id FROM photos WHERE id = ANY(:ids) AND status = 'indexed'"
).bindparams(bindparam("ids", type_=ARRAY(Uuid())))


class PeopleTasks:
    """The `regroup_people` actor on the indexing queue's broker, and how to nudge it."""

    def __init__(self, work: PeopleWork, broker: dramatiq.Broker, queue_name: str) -> None:
        self.work = work
        self.actor: dramatiq.Actor[[str], None] = dramatiq.Actor(
            self._run,
            broker=broker,
            actor_name=ACTOR_NAME,
            queue_name=queue_name,
            priority=10,  # after waiting photos: indexing first, grouping when it calms down
            options=dict(ACTOR_OPTIONS),
        )

    @property
    def _delay_s(self) -> float:
        return max(0.0, self.work.settings.people_regroup_delay_s)

    def _send(self, session_id: uuid.UUID, delay_s: float) -> None:
        self.actor.send_with_options(args=(str(session_id),), delay=int(delay_s * 1000))

    def request(self, session_ids: Iterable[uuid.UUID]) -> int:
        """Record that these sessions changed; returns how many messages were sent."""
        if not self.work.settings.people_grouping:
            return 0
        stale = self.work.settings.people_regroup_max_wait_s + 60.0
        sent = 0
        for session_id in session_ids:
            with self.work.own_db.engine.begin() as conn:
                must_send = conn.execute(_REQUEST, {"s": session_id, "stale": stale}).scalar_one()
                if must_send:
                    conn.execute(_SCHEDULE, {"s": session_id, "delay": self._delay_s})
            if must_send:
                self._send(session_id, self._delay_s)
                sent += 1
        return sent

    def resend_lost(self) -> list[uuid.UUID]:
        """Sessions asked for long ago and never regrouped (their message was lost): nudge them
        again. Run by the reconciler; a duplicate message only finds nothing left to do."""
        if not self.work.settings.people_grouping:
            return []
        overdue = self.work.settings.people_regroup_max_wait_s + 60.0
        with self.work.own_db.engine.begin() as conn:
            sessions = list(
                conn.execute(
                    text(
                        """
                        UPDATE people_groupings
                        SET scheduled_for = now() + make_interval(secs => :delay)
                        WHERE pending_since < now() - make_interval(secs => :overdue)
                          AND (scheduled_for IS NULL
                               OR scheduled_for < now() - make_interval(secs => :overdue))
                        RETURNING session_id
                        """
                    ),
                    {"delay": self._delay_s, "overdue": overdue},
                ).scalars()
            )
        for session_id in sessions:
            self._send(session_id, self._delay_s)
        return sessions

    def request_for_photos(self, photo_ids: list[uuid.UUID]) -> int:
        """Ask for a regrouping of the sessions of these (just indexed) photos."""
        if not self.work.settings.people_grouping or not photo_ids:
            return 0
        with self.work.own_db.engine.connect() as conn:
            sessions = list(conn.execute(_SESSIONS_OF, {"ids": photo_ids}).scalars())
        return self.request(sessions)

    def _run(self, raw_session_id: str) -> None:
        try:
            session_id = uuid.UUID(raw_session_id)
        except ValueError:
            logger.warning("ignoring a malformed session id in a regrouping message")
            return
        wait_s = self._seconds_to_wait(session_id)
        if wait_s is None:
            return
        if wait_s > 0:
            self._send(session_id, wait_s)
            return
        if regroup_session(self.work, session_id) is None:
            self._reschedule(session_id, self._delay_s)  # another process holds it
            return
        self._reschedule_if_pending(session_id)

    def _seconds_to_wait(self, session_id: uuid.UUID) -> float | None:
        """0: regroup now; > 0: the quiet gap is not over (rescheduled); None: nothing to do."""
        settings = self.work.settings
        with self.work.own_db.engine.begin() as conn:
            row = conn.execute(
                text(
                    """
                    SELECT pending_since IS NOT NULL AS pending,
                           extract(epoch FROM requested_at - now()) + :delay AS quiet_left,
                           extract(epoch FROM pending_since - now()) + :max_wait AS wait_left
                    FROM people_groupings WHERE session_id = :s FOR UPDATE
                    """
                ),
                {
                    "s": session_id,
                    "delay": self._delay_s,
                    "max_wait": settings.people_regroup_max_wait_s,
                },
            ).one_or_none()
            if row is None or not row.pending:
                conn.execute(
                    text("UPDATE people_groupings SET scheduled_for = NULL WHERE session_id = :s"),
                    {"s": session_id},
                )
                return None
            wait_s = max(0.0, min(float(row.quiet_left), float(row.wait_left)))
            conn.execute(
                text(
                    "UPDATE people_groupings SET scheduled_for ="
                    " CASE WHEN :wait > 0 THEN now() + make_interval(secs => :wait) END"
                    " WHERE session_id = :s"
                ),
                {"s": session_id, "wait": wait_s},
            )
        return wait_s

    def _reschedule(self, session_id: uuid.UUID, delay_s: float) -> None:
        with self.work.own_db.engine.begin() as conn:
            conn.execute(_SCHEDULE, {"s": session_id, "delay": delay_s})
        self._send(session_id, delay_s)

    def _reschedule_if_pending(self, session_id: uuid.UUID) -> None:
        with self.work.own_db.engine.begin() as conn:
            pending = conn.execute(
                text(
                    "UPDATE people_groupings SET scheduled_for = now() + make_interval(secs => :d)"
                    " WHERE session_id = :s AND pending_since IS NOT NULL AND scheduled_for IS NULL"
                    " RETURNING session_id"
                ),
                {"s": session_id, "d": self._delay_s},
            ).first()
        if pending is not None:
            self._send(session_id, self._delay_s)
