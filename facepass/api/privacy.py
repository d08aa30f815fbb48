"""A guest's opt-out (`POST .../opt-out`); a studio's removals (`DELETE .../faces/{id}`,
`DELETE .../people/{person_id}`)."""

from __future__ import annotations

import copy
import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request
from starlette.concurrency import run_in_threadpool

from facepass.api.admin import AdminAccess
from facepass.api.dependencies import (
    ChallengesDep,
    EngineDep,
    OwnDbDep,
    PixoraDep,
    RateLimiterDep,
    SearchCrowdDep,
    SettingsDep,
    TokensDep,
    ValidationCacheDep,
)
from facepass.errors import NotFound, error_responses
from facepass.guest.limits import DEVICE_DOC, DEVICE_HEADER, check_opt_out_limits, client_address
from facepass.guest.selfies import CHALLENGE_FIELD, CONSENT_FIELD, MULTIPART_SELFIES
from facepass.privacy.models import REMOVAL
from facepass.privacy.removals import new_ticket
from facepass.privacy.schemas import OptOutResult, RemovalResult
from facepass.privacy.suppression import person_face_ids, suppress_faces
from facepass.search.optout import opt_out
from facepass.search.pipeline import SelfieParts, embed_request_selfies

router = APIRouter(tags=["privacy"])

_OPT_OUT_BODY = copy.deepcopy(MULTIPART_SELFIES)
_OPT_OUT_BODY["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"][
    CONSENT_FIELD
] = {"type": "string", "maxLength": 64, "description": "Version of the consent text shown."}
_OPT_OUT_BODY["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"][
    CHALLENGE_FIELD
] = {
    "type": "string",
    "maxLength": 64,
    "description": "The live-selfie challenge (POST .../challenge) the two selfies answer; "
    "always required: an opt-out needs a live pair whatever the session's selfie policy.",
}


@router.post(
    "/api/v1/sessions/{session_id}/opt-out",
    response_model=OptOutResult,
    summary="Remove me from this session's search (with a selfie)",
    responses=error_responses(403, 404, 413, 422, 429, 503),
    openapi_extra=_OPT_OUT_BODY,
)
async def guest_opt_out(
    session_id: uuid.UUID,
    request: Request,
    settings: SettingsDep,
    own_db: OwnDbDep,
    engines: EngineDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
    limiter: RateLimiterDep,
    tokens: TokensDep,
    crowd: SearchCrowdDep,
    challenges: ChallengesDep,
    device: Annotated[str | None, Header(alias=DEVICE_HEADER, description=DEVICE_DOC)] = None,
) -> OptOutResult:
    """The faces of this session that the search matches to the selfie are hidden from every
    later search and the people view, and their embeddings deleted; the photos stay the
    studio's. The same `selfie` field and rate limits as search, and the opt-out's own
    (FACEPASS_OPT_OUT_RATE_LIMIT per address, FACEPASS_OPT_OUT_DEVICE_RATE_LIMIT per browser);
    an optional `consent_version` field is recorded in the audit row. The studio can review
    and restore the removal for FACEPASS_REMOVAL_REVIEW_DAYS (`GET .../removals`). Nothing of
    the selfie is kept. Always a live pair: two selfies answering `challenge_id` (403
    LIVE_SELFIE_REQUIRED without one; the search's CHALLENGE_* and LIVE_* refusals otherwise,
    LIVE_COPIED_FACE included: a frame that is a copy of a face the session holds, removed
    ones too).
    """

    # The search's own limits, in its order, then the opt-out's (a few an hour).
    async def opt_out_limits() -> None:
        await check_opt_out_limits(request, limiter, settings, tokens)

    parts = SelfieParts(
        settings, own_db, engines, pixora, cache, limiter, tokens, crowd, challenges
    )
    # Whatever the session's selfie policy, removing a guest needs a live pair.
    query = await embed_request_selfies(
        request, session_id, parts, extra_limits=opt_out_limits, always_live=True
    )
    engine, embedded, consent_version = query.engine, query.embedded, query.consent_version
    done = await run_in_threadpool(
        partial(
            opt_out,
            own_db,
            settings,
            engines,
            session_id,
            engine,
            embedded.queries,
            consent_version=consent_version,
            client_hash=tokens.client_hash(tokens.device_id(device), client_address(request)),
        )
    )
    return OptOutResult(
        session_id=session_id, faces_removed=done.faces, photos_affected=done.photos
    )


@router.delete(
    "/api/v1/sessions/{session_id}/faces/{face_id}",
    response_model=RemovalResult,
    summary="Remove one face from the session's search for good (admin)",
    responses=error_responses(401, 403, 404, 422),
)
def remove_face(
    session_id: uuid.UUID,
    face_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    own_db: OwnDbDep,
    settings: SettingsDep,
    access: AdminAccess,
) -> RemovalResult:
    """For a guest's request that reached the studio: the face (every model's row) is deleted
    and suppressed, so re-indexing or re-uploading the photo never brings it back (a removal
    the studio can restore for FACEPASS_REMOVAL_REVIEW_DAYS)."""
    ticket = new_ticket(REMOVAL, access.actor, settings.removal_review_days)
    with own_db.session() as db:
        done = suppress_faces(db, session_id, [face_id], ticket)
    if done.faces == 0:
        raise NotFound("No such face in this session.", code="FACE_NOT_FOUND")
    access.audit("face_removal", faces=done.faces, photos=done.photos, removal_id=str(ticket.id))
    return RemovalResult(
        session_id=session_id, faces_removed=done.faces, photos_affected=done.photos
    )


@router.delete(
    "/api/v1/sessions/{session_id}/people/{person_id}",
    response_model=RemovalResult,
    summary="Remove one person of the people view from the session's search for good (admin)",
    responses=error_responses(401, 403, 404, 422),
)
def remove_person(
    session_id: uuid.UUID,
    person_id: uuid.UUID,
    own_db: OwnDbDep,
    settings: SettingsDep,
    access: AdminAccess,
) -> RemovalResult:
    """Every face of the person (a group of `GET .../people`) is deleted and suppressed, as for
    a face: no search, regrouping, re-indexing or re-upload brings them back (restorable as a
    face's removal is)."""
    ticket = new_ticket(REMOVAL, access.actor, settings.removal_review_days)
    with own_db.session() as db:
        face_ids = person_face_ids(db, session_id, person_id)
        done = suppress_faces(db, session_id, face_ids, ticket)
    if done.faces == 0:
        raise NotFound("No such person in this session.", code="PERSON_NOT_FOUND")
    access.audit("person_removal", faces=done.faces, photos=done.photos, removal_id=str(ticket.id))
    return RemovalResult(
        session_id=session_id, faces_removed=done.faces, photos_affected=done.photos
    )
