"""Answers of the opt-out and removal endpoints."""

from __future__ import annotations

import uuid

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
