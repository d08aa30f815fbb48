"""Response bodies of the studio console's admin API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

IndexingState = Literal["empty", "indexing", "done"]


class PhotoCounts(BaseModel):
    total: int
    pending: int
    indexing: int
    indexed: int
    failed: int


class StudioSession(BaseModel):
    """One of the studio's Pixora sessions with FacePass's figures for it."""

    id: uuid.UUID
    name: str
    studio_id: uuid.UUID
    status: str = Field(description="Pixora's session status.")
    facepass_enabled: bool = Field(description="Whether guests may use FacePass (Pixora's).")
    created_at: datetime
    photos: PhotoCounts
    faces: int = Field(description="Searchable faces of the session's active model.")
    people: int = Field(description="People of the session's latest grouping.")
    indexing: IndexingState = Field(
        description="empty: no photos; indexing: photos pending or being indexed; done."
    )


class StudioSessions(BaseModel):
    studio_id: uuid.UUID | None = Field(description="The key's studio; null for the operator.")
    total: int
    limit: int
    offset: int
    sessions: list[StudioSession] = Field(description="Newest first.")


class ShareInfo(BaseModel):
    """Where guests find the event, and whether a printed poster would work for them."""

    session_id: uuid.UUID
    guest_url: str
    public: bool = Field(description="False: the URL is not reachable from guests' phones.")
    reason: str | None = Field(
        description="Why not public (loopback, private or link-local address, local name)."
    )
