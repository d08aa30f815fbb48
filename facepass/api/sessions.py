"""The brief's session endpoints: validate (one and many), session data, FacePass status.

Validation answers are the brief's JSON with HTTP 200 whether the session is valid, unknown or
has FacePass off. When Pixora cannot answer, the status is 503 PIXORA_UNAVAILABLE (the brief
said 500; a 503 with Retry-After tells clients the failure is temporary).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from facepass.api.admin import AdminAuth
from facepass.api.dependencies import (
    DbSession,
    OwnDbDep,
    PixoraDep,
    RateLimiterDep,
    SettingsDep,
    ValidationCacheDep,
)
from facepass.errors import error_responses
from facepass.guest.limits import check_rate_limit, client_address
from facepass.pixora.errors import SessionNotFound
from facepass.pixora.schemas import SessionInfo
from facepass.pixora.validation import validate_session, validate_sessions
from facepass.sessions.schemas import (
    VALIDATION_EXAMPLES,
    BatchCounts,
    BatchValidationRequest,
    BatchValidationResponse,
    FacePassStatus,
    SessionUsage,
    UsageDay,
    UsageTotals,
    ValidationResponse,
)
from facepass.usage.recorder import USAGE, consent_usage, daily_usage

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


@router.get(
    "/validate/{session_id}",
    response_model=ValidationResponse,
    summary="Validate a session",
    description=(
        "Is this a real Pixora session with FacePass on? HTTP 200 in all three cases "
        "(valid, unknown, FacePass off); 503 PIXORA_UNAVAILABLE when Pixora cannot answer."
    ),
    responses={
        200: {"content": {"application/json": {"examples": VALIDATION_EXAMPLES}}},
        **error_responses(422, 503),
    },
)
def validate(session_id: uuid.UUID, pixora: PixoraDep, cache: ValidationCacheDep) -> JSONResponse:
    validation = validate_session(pixora, cache, session_id)
    return JSONResponse(validation.as_brief())


@router.post(
    "/validate",
    response_model=BatchValidationResponse,
    summary="Validate many sessions",
    description=(
        "Validate 1 to 1000 session ids in one request (one read of Pixora for the ids not "
        "cached). Each distinct id gets the single-validation answer, keyed by its canonical "
        "form, in the order first given."
    ),
    responses=error_responses(422, 503),
)
def validate_batch(
    body: BatchValidationRequest, pixora: PixoraDep, cache: ValidationCacheDep
) -> JSONResponse:
    answers = validate_sessions(pixora, cache, body.session_ids)
    results = {str(session_id): answer.as_brief() for session_id, answer in answers.items()}
    outcomes = Counter(answer.result for answer in answers.values())
    counts = BatchCounts(
        requested=len(body.session_ids),
        unique=len(answers),
        valid=outcomes["valid"],
        not_found=outcomes["not_found"],
        disabled=outcomes["disabled"],
    )
    logger.info(
        "sessions validated",
        extra={
            **counts.model_dump(),
            "cache_hits": sum(answer.cache_hit for answer in answers.values()),
        },
    )
    payload: dict[str, Any] = {"results": results, "counts": counts.model_dump()}
    return JSONResponse(payload)


@router.get(
    "/{session_id}",
    response_model=SessionInfo,
    summary="Session data",
    description=(
        "The session as the brief's validation answer shows it (id, name, studio, photographer, "
        "status, FacePass flag, timestamps), whatever its FacePass state. Public, so nothing "
        "else of Pixora's row is shown (not its `settings`, description, schedule or service "
        "package). Served from the validation cache; rate-limited per client address "
        "(FACEPASS_SESSION_DETAILS_RATE_LIMIT)."
    ),
    responses=error_responses(404, 422, 429, 503),
)
async def session_details(
    session_id: uuid.UUID,
    request: Request,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
) -> SessionInfo:
    await check_rate_limit(
        limiter,
        "session-details",
        client_address(request),
        settings.session_details_rate_limit,
        what="requests",
    )
    validation = await run_in_threadpool(
        validate_session, pixora, cache, session_id, count_usage=False
    )
    if validation.session is None:
        raise SessionNotFound()
    return validation.session


@router.get(
    "/{session_id}/facepass-status",
    response_model=FacePassStatus,
    summary="FacePass status of a session",
    description="Whether guests can use FacePass on the session now; `reason` says why not.",
    responses=error_responses(404, 422, 503),
)
def facepass_status(
    session_id: uuid.UUID, pixora: PixoraDep, cache: ValidationCacheDep
) -> FacePassStatus:
    validation = validate_session(pixora, cache, session_id)
    if validation.session is None:
        raise SessionNotFound()
    return FacePassStatus(
        session_id=session_id,
        facepass_enabled=validation.session.facepass_enabled,
        status=validation.session.status,
        active=validation.valid,
        reason=validation.error,
    )


@router.get(
    "/{session_id}/usage",
    response_model=SessionUsage,
    summary="Usage analytics of a session (admin)",
    description=(
        "Validations (every check of the session: validate calls, guest page loads, searches' "
        "session checks) and selfie searches per UTC day, over the last `days` days."
    ),
    dependencies=[AdminAuth],
    responses=error_responses(401, 422),
)
def session_usage(
    session_id: uuid.UUID,
    own_db: OwnDbDep,
    db: DbSession,
    days: Annotated[int, Query(ge=1, le=366, description="How many UTC days back")] = 30,
) -> SessionUsage:
    USAGE.flush(own_db)  # include this process's latest counts
    rows = daily_usage(db, session_id, days)
    return SessionUsage(
        session_id=session_id,
        since=datetime.now(UTC).date() - timedelta(days=days - 1),
        days=[
            UsageDay(
                day=r.day,
                validations=r.validations,
                searches=r.searches,
                opt_outs_unmatched=r.opt_outs_unmatched,
            )
            for r in rows
        ],
        totals=UsageTotals(
            validations=sum(r.validations for r in rows),
            searches=sum(r.searches for r in rows),
            opt_outs_unmatched=sum(r.opt_outs_unmatched for r in rows),
        ),
        searches_by_consent=consent_usage(db, session_id, days),
    )
