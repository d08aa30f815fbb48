"""SessionInfo: what FacePass knows of a Pixora session after validating it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer

DEMO_SESSION_EXAMPLE: dict[str, Any] = {
    "id": "1788875f-fc71-49d6-a9fa-a060e3ee6fee",
    "name": "Тестовая поиск по лицу",
    "studio_id": "9cccbfe6-2137-4d5a-97c7-e470dd73a758",
    "facepass_enabled": True,
    "photographer_id": "5ff5d5fd-1068-405f-b4c9-3c9c01a499d9",
    "status": "created",
    "created_at": "2026-02-18T17:55:51.746000+00:00",
    "updated_at": "2026-02-18T17:55:51.746000+00:00",
}


def utc_isoformat(value: datetime) -> str:
    """The brief's timestamp form, Python isoformat in UTC: 2026-02-18T17:55:51.746000+00:00."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


class SessionInfo(BaseModel):
    """A Pixora session as the brief's validation answer shows it (field order included)."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={"example": DEMO_SESSION_EXAMPLE},
    )

    id: uuid.UUID
    name: str
    studio_id: uuid.UUID
    facepass_enabled: bool
    photographer_id: uuid.UUID
    status: str
    created_at: datetime
    updated_at: datetime

    @field_serializer("created_at", "updated_at")
    def _timestamp(self, value: datetime) -> str:
        return utc_isoformat(value)
