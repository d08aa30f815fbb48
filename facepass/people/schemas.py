"""Response bodies of the people endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from facepass.http.text import DisplayName


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
    name: str | None = Field(None, description="Set by the studio (`PATCH`); kept by regroupings.")
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


class PersonSummary(BaseModel):
    """A person after a studio's decision."""

    id: uuid.UUID
    name: str | None
    face_count: int
    photo_count: int


class MergeIn(BaseModel):
    into: uuid.UUID = Field(description="The person that stays; this one's faces join it.")


class SplitIn(BaseModel):
    face_ids: list[int] = Field(
        min_length=1,
        max_length=10_000,
        description="Faces of this person that become a new person (not all of them).",
    )


class NameIn(BaseModel):
    name: DisplayName | None = Field(description="The person's name; null or blank clears it.")


class PersonFace(BaseModel):
    """One face of a person: its photo's thumbnail and where the face is."""

    face_id: int
    photo_id: uuid.UUID
    thumb_url: str
    box: list[float] = Field(min_length=4, max_length=4, description="left, top, right, bottom")
    photo_width: int | None
    photo_height: int | None
    core: bool = Field(description="Vouched for by its neighbours in the person.")
    pinned: bool = Field(description="Placed by a studio decision.")


class PersonFaces(BaseModel):
    session_id: uuid.UUID
    person_id: uuid.UUID
    name: str | None
    total: int
    limit: int
    offset: int
    expires_at: int
    faces: list[PersonFace]
