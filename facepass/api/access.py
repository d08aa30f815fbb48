"""`GET /api/v1/audit`: the audit log, for operators (FACEPASS_ADMIN_TOKEN) only."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from facepass.access import audit
from facepass.api.admin import AdminAccess
from facepass.api.dependencies import DbSession
from facepass.errors import Forbidden, error_responses

router = APIRouter(tags=["access"])


@router.get(
    "/api/v1/audit",
    summary="The audit log, newest first (operator token only)",
    responses=error_responses(401, 403, 422),
)
def audit_log(
    access: AdminAccess,
    db: DbSession,
    session_id: Annotated[uuid.UUID | None, Query(description="Only this session's rows.")] = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Rows older than this id (paging).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Every admin action: actor ("operator", "key:<id>", "guest", "retention"), action,
    session, counts, time and request id. Studio keys are refused."""
    if not access.is_operator:
        raise Forbidden("The audit log is for operators only.")
    rows = audit.entries(db, session_id=session_id, before_id=before_id, limit=limit)
    return {"entries": rows, "next_before_id": rows[-1]["id"] if len(rows) == limit else None}
