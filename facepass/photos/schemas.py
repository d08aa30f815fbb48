"""Request and response bodies of the photo endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

PhotoStatus = Literal["pending", "indexing", "indexed", "failed"]


class FileError(BaseModel):
    code: str = Field(examples=["FILE_TOO_LARGE"])
    detail: str


class UploadedFile(BaseModel):
    """The outcome for one file of an upload: a photo (new or existing) or an error."""

    filename: str
    photo_id: uuid.UUID | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    status: PhotoStatus | Literal["rejected"]
    duplicate: bool = False
    error: FileError | None = None


class UploadResult(BaseModel):
    session_id: uuid.UUID
    accepted: int = Field(description="New photos stored and queued for indexing.")
    duplicates: int = Field(description="Files already in the session (the existing photo).")
    rejected: int = Field(description="Files refused (see each file's error).")
    files: list[UploadedFile]


class PhotoOut(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    original_filename: str
    sha256: str
    content_type: str
    size_bytes: int
    width: int | None
    height: int | None
    captured_at: datetime | None
    status: PhotoStatus
    failure_code: str | None
    failure_detail: str | None
    face_count: int
    model_id: str | None
    created_at: datetime
    indexed_at: datetime | None

    model_config = {"from_attributes": True}


class PhotoPage(BaseModel):
    items: list[PhotoOut]
    total: int
    limit: int
    offset: int


Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]


class HashCheck(BaseModel):
    sha256: list[Sha256Hex] = Field(
        max_length=1000, description="SHA-256 hex digests (64 hex digits), up to 1000."
    )


class KnownPhoto(BaseModel):
    photo_id: uuid.UUID
    status: PhotoStatus


class HashCheckResult(BaseModel):
    known: dict[str, KnownPhoto] = Field(description="The digests already uploaded, by digest.")


class DeletedPhotos(BaseModel):
    session_id: uuid.UUID
    deleted_photos: int
    deleted_files: int


class ModelStatus(BaseModel):
    active: str | None = Field(description="The model searches use.")
    building: str | None = Field(description="A model being built by a re-index, if any.")


class IndexStatus(BaseModel):
    session_id: uuid.UUID
    photos: dict[PhotoStatus | Literal["total"], int]
    faces_indexed: int = Field(description="Searchable faces of the active model.")
    failures: dict[str, int] = Field(description="Failed photos by failure code.")
    model: ModelStatus
    complete: bool = Field(description="Nothing pending or indexing.")
    photos_per_second: float | None = Field(description="Recent indexing throughput.")
    eta_seconds: float | None = Field(description="Estimated time until complete.")
