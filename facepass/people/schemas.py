"""Response bodies of the people endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class CoverFace(BaseModel):
    """The face shown for a person: a signed thumbnail link of its photo and where the face is."""

    face_id: int
    photo_id: uuid.UUID
    thumb_url: str = Field(description="Signed, expiring link to the photo's thumbnail.")
    box: list[float] = Field(
        description="The face in the original photo's pixels: left, top, right, bottom.",
        min_length=4,
        max_length=4,
    )
    photo_width: int | None = Field(description="Original width (scale `box` to the thumbnail).")
    photo_height: int | None


class PersonOut(BaseModel):
    id: uuid.UUID = Field(description="Stable across regroupings while the person's faces stay.")
    face_count: int
    photo_count: int
    cover: CoverFace | None


class PeoplePage(BaseModel):
    session_id: uuid.UUID
    model_id: str | None = Field(description="The model whose faces were grouped.")
    grouped_at: datetime | None = Field(description="When the session was last grouped.")
    total: int = Field(description="People with at least `min_faces` faces.")
    limit: int
    offset: int
    expires_at: int = Field(description="Expiry (Unix time) of the cover links.")
    people: list[PersonOut] = Field(description="Most faces first.")


class PersonPhotos(BaseModel):
    session_id: uuid.UUID
    person_id: uuid.UUID
    total: int
    limit: int
    offset: int
    photo_ids: list[uuid.UUID] = Field(description="Capture time order, then upload order.")
