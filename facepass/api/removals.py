"""The studio's review of removals: `GET .../removals`, `POST .../removals/{id}/restore`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from facepass.api.admin import AdminAccess
from facepass.api.dependencies import OwnDbDep, SettingsDep
from facepass.errors import error_responses
from facepass.privacy.models import Removal
from facepass.privacy.removals import RemovedBox, list_removals, restore, status_of
from facepass.privacy.schemas import RemovalList, RemovalOut, RemovedFaceOut, RestoreResult

router = APIRouter(tags=["privacy"])


def removal_out(removal: Removal, boxes: list[RemovedBox], now: datetime) -> RemovalOut:
    status = status_of(removal, now)
    return RemovalOut(
        id=removal.id,
        reason=removal.reason,  # type: ignore[arg-type]
        actor=removal.actor,
        client_hash=removal.client_hash,
        created_at=removal.created_at,
        review_until=removal.review_until,
        status=status,
        restorable=status == "in_review",
        restored_at=removal.restored_at,
        restored_by=removal.restored_by,
        faces_removed=removal.faces,
        photos_affected=removal.photos,
        faces=[
            RemovedFaceOut(photo_id=b.photo_id, box=[round(v, 1) for v in b.box]) for b in boxes
        ],
    )


@router.get(
    "/api/v1/sessions/{session_id}/removals",
    response_model=RemovalList,
    summary="The session's opt-outs and removals, for the studio's review (admin)",
    responses=error_responses(401, 403, 422),
)
def session_removals(
    session_id: uuid.UUID,
    own_db: OwnDbDep,
    settings: SettingsDep,
    access: AdminAccess,
    limit: Annotated[int, Query(ge=1, le=500, description="Most removals, newest first")] = 100,
) -> RemovalList:
    """When, by whom (a guest's opt-out, the studio's removal), how many faces in which photos
    and where; `restorable` while the review window (FACEPASS_REMOVAL_REVIEW_DAYS) is open.
    Nothing of a selfie or a face's embedding is shown."""
    now = datetime.now(UTC)
    with own_db.sessions() as db:
        listed = list_removals(db, session_id, limit)
        removals = [removal_out(removal, boxes, now) for removal, boxes in listed]
    return RemovalList(
        session_id=session_id, review_days=settings.removal_review_days, removals=removals
    )


@router.post(
    "/api/v1/sessions/{session_id}/removals/{removal_id}/restore",
    response_model=RestoreResult,
    summary="Undo an opt-out or removal within its review window (admin)",
    responses=error_responses(401, 403, 404, 409, 422),
)
def restore_removal(
    session_id: uuid.UUID, removal_id: uuid.UUID, own_db: OwnDbDep, access: AdminAccess
) -> RestoreResult:
    """The removal's faces are searchable again and its suppressions lifted (a re-upload of
    the same photo indexes them). 404 REMOVAL_NOT_FOUND; 409 REMOVAL_RESTORED when restored
    already, REMOVAL_FINAL after the review window."""
    now = datetime.now(UTC)
    with own_db.session() as db:
        done = restore(db, session_id, removal_id, access.actor, now)
        out = removal_out(done.removal, done.boxes, now)
    access.audit("removal_restore", faces=done.faces, removal_id=str(removal_id), reason=out.reason)
    return RestoreResult(session_id=session_id, faces_restored=done.faces, removal=out)
