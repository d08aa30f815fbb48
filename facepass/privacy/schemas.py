"""Answers of the opt-out and removal endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class OptOutResult(BaseModel):
    """What a guest's opt-out removed from the session's search."""

    session_id: uuid.UUID
    faces_removed: int = Field(
        description="Faces of the guest hidden for good, embeddings deleted."
    )
    photos_affected: int = Field(description="Photos those faces were in (the photos stay).")


class RemovalResult(BaseModel):
    """What a studio's removal hid."""

    session_id: uuid.UUID
    faces_removed: int
    photos_affected: int


class RemovedFaceOut(BaseModel):
    """One face a removal hid: which photo (null once the photo is deleted), where in it."""

    photo_id: uuid.UUID | None
    box: list[float] = Field(description="[left, top, right, bottom] in original pixels.")


class RemovalOut(BaseModel):
    """One opt-out or studio removal, as the studio reviews it (never biometric data)."""

    id: uuid.UUID
    reason: Literal["opt_out", "removal"] = Field(
        description="opt_out: a guest's; removal: a studio's (DELETE .../faces or .../people)."
    )
    actor: str = Field(description='"guest", "operator" or "key:<studio key id>".')
    client_hash: str | None = Field(
        description="Keyed hash of the guest's browser and address (opt-outs only): tells "
        "one client's repeated opt-outs apart, identifies nobody."
    )
    created_at: datetime
    review_until: datetime = Field(description="Until when it can be restored.")
    status: Literal["in_review", "restored", "final"]
    restorable: bool
    restored_at: datetime | None
    restored_by: str | None
    faces_removed: int
    photos_affected: int
    faces: list[RemovedFaceOut]


class RemovalList(BaseModel):
    """A session's removals, newest first."""

    session_id: uuid.UUID
    review_days: int = Field(description="FACEPASS_REMOVAL_REVIEW_DAYS.")
    removals: list[RemovalOut]


class RestoreResult(BaseModel):
    """A restored removal: its faces are searchable again."""

    session_id: uuid.UUID
    faces_restored: int = Field(description="Face rows (every model's) put back.")
    removal: RemovalOut
