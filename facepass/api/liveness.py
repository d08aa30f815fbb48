"""Live selfies over HTTP: a guest's challenge, a studio's selfie policy.

- `POST /api/v1/sessions/{id}/challenge`: before the camera opens, the page asks for one.
- `PUT|GET /api/v1/sessions/{id}/selfie-policy` (admin, audited).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from facepass.api.admin import AdminAccess
from facepass.api.dependencies import (
    ChallengesDep,
    DbSession,
    ExistingSession,
    OwnDbDep,
    PixoraDep,
    RateLimiterDep,
    SettingsDep,
    ValidationCacheDep,
)
from facepass.errors import error_responses
from facepass.guest.challenge import Direction
from facepass.guest.limits import check_rate_limit, client_address
from facepass.pixora.validation import active_session
from facepass.search.selfie_policy import SelfiePolicy, policy_of, save_policy, stored_policy

router = APIRouter(tags=["live selfie"])


class ChallengeOut(BaseModel):
    """What the page needs to take a live pair: the id to send back, which way to turn."""

    challenge_id: str = Field(description="Send it back as the `challenge_id` form field")
    direction: Direction = Field(description="Which way the guest turns, their own left or right")
    expires_at: int = Field(description="Unix time after which the challenge is refused")
    expires_in_s: int
    selfie_policy: SelfiePolicy = Field(description="The session's policy, for the page")


class SelfiePolicyIn(BaseModel):
    selfie_policy: SelfiePolicy


class SelfiePolicyOut(BaseModel):
    session_id: uuid.UUID
    selfie_policy: SelfiePolicy
    # True when the studio has not set one and the operator's default applies.
    default: bool


@router.post(
    "/api/v1/sessions/{session_id}/challenge",
    response_model=ChallengeOut,
    summary="A live-selfie challenge: a direction to turn, valid once for about a minute",
    responses=error_responses(403, 404, 422, 429, 503),
)
async def issue_challenge(
    session_id: uuid.UUID,
    request: Request,
    settings: SettingsDep,
    own_db: OwnDbDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
    limiter: RateLimiterDep,
    challenges: ChallengesDep,
) -> ChallengeOut:
    """The page asks for one before opening the camera, then sends the frontal selfie and the
    turned one with `challenge_id` to search or opt-out. Used once, whatever the verdict;
    expired after `expires_in_s`. 403 FACEPASS_DISABLED, 404 for unknown sessions."""
    # The address's flood limit, counted apart from searches (a live search asks for one too).
    await check_rate_limit(
        limiter, "challenge-client", client_address(request), settings.search_rate_limit
    )
    await run_in_threadpool(active_session, pixora, cache, session_id)
    challenge = await run_in_threadpool(challenges.issue, session_id)
    policy = await run_in_threadpool(policy_of, own_db, settings, session_id)
    return ChallengeOut(
        challenge_id=challenge.id,
        direction=challenge.direction,
        expires_at=int(challenge.expires_at),
        expires_in_s=challenges.ttl_s,
        selfie_policy=policy,
    )


@router.put(
    "/api/v1/sessions/{session_id}/selfie-policy",
    response_model=SelfiePolicyOut,
    summary="Set a session's selfie policy: live, or live_or_gallery (admin)",
    responses=error_responses(400, 401, 403, 404, 422, 503),
)
def put_selfie_policy(
    session_id: uuid.UUID,
    values: SelfiePolicyIn,
    _session: ExistingSession,
    db: DbSession,
    access: AdminAccess,
) -> SelfiePolicyOut:
    """`live`: searches need the camera's live pair; `live_or_gallery`: a gallery photo may
    search too. Opt-outs always need a live pair."""
    save_policy(db, session_id, values.selfie_policy)
    db.commit()
    access.audit("selfie_policy", policy=values.selfie_policy.value)
    return SelfiePolicyOut(session_id=session_id, selfie_policy=values.selfie_policy, default=False)


@router.get(
    "/api/v1/sessions/{session_id}/selfie-policy",
    response_model=SelfiePolicyOut,
    summary="A session's selfie policy (admin)",
    responses=error_responses(401, 403, 422, 503),
)
def get_selfie_policy(
    session_id: uuid.UUID, settings: SettingsDep, db: DbSession, _access: AdminAccess
) -> SelfiePolicyOut:
    stored = stored_policy(db, session_id)
    return SelfiePolicyOut(
        session_id=session_id,
        selfie_policy=stored or SelfiePolicy(settings.selfie_policy_default),
        default=stored is None,
    )
