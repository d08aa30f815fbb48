"""Request and response bodies of the session endpoints (the brief's JSON, exactly)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from facepass.pixora.schemas import DEMO_SESSION_EXAMPLE, SessionInfo

MAX_BATCH = 1000

DEMO_ID = "1788875f-fc71-49d6-a9fa-a060e3ee6fee"
_DEMO_SESSION = DEMO_SESSION_EXAMPLE

VALIDATION_EXAMPLES: dict[str, dict[str, Any]] = {
    "valid": {
        "summary": "FacePass is on",
        "value": {"valid": True, "session": _DEMO_SESSION, "error": None},
    },
    "not_found": {
        "summary": "Unknown session",
        "value": {"valid": False, "session": None, "error": "Session not found"},
    },
    "disabled": {
        "summary": "FacePass is off for the session",
        "value": {
            "valid": False,
            "session": {**_DEMO_SESSION, "facepass_enabled": False, "status": "completed"},
            "error": "FacePass is not enabled",
        },
    },
}


class ValidationResponse(BaseModel):
    """The brief's validation answer: always HTTP 200 for found, unknown and disabled."""

    valid: bool
    session: SessionInfo | None
    error: str | None = Field(description='"Session not found", "FacePass is not enabled" or null')


class FacePassStatus(BaseModel):
    """Whether guests can use FacePass on a session now, and why not when they cannot."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "session_id": DEMO_ID,
                "facepass_enabled": True,
                "status": "created",
                "active": True,
                "reason": None,
            }
        }
    )

    session_id: uuid.UUID
    facepass_enabled: bool
    status: str
    active: bool
    reason: str | None = Field(description="Why FacePass is not active; null when it is")


class BatchValidationRequest(BaseModel):
    """Up to 1000 session ids; repeated ids are answered once."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"session_ids": [DEMO_ID, "00000000-0000-4000-8000-000000000000"]}
        }
    )

    session_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BATCH)


class BatchCounts(BaseModel):
    requested: int = Field(description="Ids in the request, repeats included")
    unique: int
    valid: int
    not_found: int
    disabled: int


class BatchValidationResponse(BaseModel):
    """One validation answer per distinct id, keyed by id, in the order first given."""

    results: dict[str, ValidationResponse]
    counts: BatchCounts


class UsageDay(BaseModel):
    day: date
    validations: int
    searches: int
    opt_outs_unmatched: int = Field(0, description="Opt-outs whose selfie matched no face.")


class UsageTotals(BaseModel):
    validations: int
    searches: int
    opt_outs_unmatched: int = 0


class SessionUsage(BaseModel):
    """FacePass usage of a session per UTC day (days without any use are left out)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "session_id": DEMO_ID,
                "since": "2026-02-01",
                "days": [{"day": "2026-02-18", "validations": 42, "searches": 17}],
                "totals": {"validations": 42, "searches": 17},
                "searches_by_consent": {"guest-page-1": 15, "client": 2},
            }
        }
    )

    session_id: uuid.UUID
    since: date
    days: list[UsageDay]
    totals: UsageTotals
    searches_by_consent: dict[str, int] = Field(
        default_factory=dict,
        description="Searches per version of the consent text the guest agreed to on the "
        'guest page; "client" counts searches without `consent_version` (their client, e.g. '
        "Pixora's own app, collected consent itself).",
    )
