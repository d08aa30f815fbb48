"""`facepass people regroup [SESSION_ID]`: regroup sessions' people now, session by session."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from facepass.cli.bootstrap import worker_context
from facepass.config import Settings
from facepass.people.tasks import regroup_session


def regroup_sessions(settings: Settings, session_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Regroup one session, or every session with faces; returns a report per session."""
    with worker_context(settings) as work:
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
