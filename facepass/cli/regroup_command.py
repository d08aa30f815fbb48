"""`facepass people regroup [SESSION_ID]`: regroup sessions' people now, session by session."""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from typing import Any

from sqlalchemy import text

from facepass.composition.context import WorkerContext
from facepass.config import Settings
from facepass.people.tasks import regroup_session


def regroup_sessions(settings: Settings, session_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Regroup one session, or every session with faces; returns a report per session."""
    from facepass.migrations import upgrade

    with ExitStack() as cleanup:
        if settings.embedded:
            from facepass.embedded import embedded_settings

            settings, postgres = embedded_settings(settings, settings.data_dir)
            cleanup.callback(postgres.stop)
        assert settings.database_url is not None
        upgrade(settings.database_url)
        work = WorkerContext.build(settings)
        cleanup.callback(work.close)
        if session_id is not None:
            sessions = [session_id]
        else:
            with work.own_db.engine.connect() as conn:
                sessions = list(
                    conn.execute(
                        text("SELECT session_id FROM session_indexes ORDER BY 1")
                    ).scalars()
                )
        report: list[dict[str, Any]] = []
        for session in sessions:
            result = regroup_session(work, session)
            if result is None:
                report.append({"session_id": str(session), "skipped": "being regrouped"})
                continue
            report.append(
                {
                    "session_id": str(session),
                    "model_id": result.model_id,
                    "faces": result.faces,
                    "people": result.people,
                    "kept_ids": result.kept_ids,
                    "took_ms": result.took_ms,
                }
            )
    return {"sessions": report}
