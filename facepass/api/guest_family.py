"""`POST /api/v1/sessions/{id}/results/merge`: "me and my family", one gallery for several.

The merging itself (who is who, how long it lasts) is facepass.search.family.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from facepass.api.dependencies import (
    OwnDbDep,
    PixoraDep,
    SignerDep,
    TokensDep,
    ValidationCacheDep,
)
from facepass.errors import error_responses
from facepass.pixora.validation import active_session
from facepass.search import service
from facepass.search.family import merge_results
from facepass.search.schemas import MergedResults, MergeRequest

router = APIRouter(tags=["search"])


@router.post(
    "/api/v1/sessions/{session_id}/results/merge",
    response_model=MergedResults,
    summary="One gallery, and one results token, for several people's searches of a session",
    responses=error_responses(400, 403, 404, 422, 503),
)
async def merge(
    session_id: uuid.UUID,
    body: MergeRequest,
    own_db: OwnDbDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
    tokens: TokensDep,
    signer: SignerDep,
) -> MergedResults:
    """The photos of every results token (the guest's first), each marked with who is in it
    (`people`: 0 the guest, 1.. the others in the order given), and a results token covering
    all of them, valid until the first of them expires. 403 INVALID_TOKEN / TOKEN_EXPIRED or
    FACEPASS_DISABLED; 422 TOO_MANY_PEOPLE past four people."""
    claims = [tokens.read_results(token) for token in body.results_tokens]
    merged, people = merge_results(session_id, claims)
    await run_in_threadpool(active_session, pixora, cache, session_id)
    shown = await run_in_threadpool(service.results_of_token, own_db, merged, signer)
    token = tokens.results_token(session_id, merged.photos, merged.expires_at)
    return MergedResults(**shown.model_dump(), results_token=token, people=people)
