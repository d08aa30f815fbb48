"""POST /api/v1/sessions/{id}/search: a guest's selfies in, their photos of the session out."""

from __future__ import annotations

import copy
import time
import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from facepass.api.admin import ScoresVisible
from facepass.api.dependencies import (
    ChallengesDep,
    EngineDep,
    OwnDbDep,
    PixoraDep,
    RateLimiterDep,
    SearchCrowdDep,
    SettingsDep,
    SignerDep,
    TokensDep,
    ValidationCacheDep,
)
from facepass.config import Settings
from facepass.engine.selfie import SelfieProfile
from facepass.errors import Conflict, Forbidden, error_responses
from facepass.guest.limits import DEVICE_DOC, DEVICE_HEADER
from facepass.guest.selfies import CHALLENGE_FIELD, CONSENT_FIELD, MULTIPART_SELFIES, SearchForm
from facepass.guest.signing import MediaSigner
from facepass.guest.tokens import GuestTokens
from facepass.observability.metrics import SEARCH_SECONDS, SEARCHES
from facepass.pixora.validation import active_session
from facepass.search import service
from facepass.search.pipeline import SelfieParts, check_search_limits, embed_request_selfies
from facepass.search.schemas import RecheckRequest, ResultsResponse, SearchResponse, guest_view
from facepass.usage.recorder import record_consent, record_usage

router = APIRouter(tags=["search"])


def _keys(
    settings: Settings,
    signer: MediaSigner,
    tokens: GuestTokens,
    query_expires_at: int | None = None,
) -> service.GuestKeys:
    return service.GuestKeys(
        signer=signer,
        tokens=tokens,
        results_ttl_s=settings.results_token_ttl_s,
        results_max_photos=settings.results_token_max_photos,
        query_expires_at=query_expires_at,
    )


_SEARCH_BODY = copy.deepcopy(MULTIPART_SELFIES)
_SEARCH_BODY["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"][
    CONSENT_FIELD
] = {
    "type": "string",
    "maxLength": 64,
    "description": "Version of the consent text the guest agreed to (the guest page sends it); "
    "without it the search is counted as 'consent collected by the client'.",
}
_SEARCH_BODY["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"][
    CHALLENGE_FIELD
] = {
    "type": "string",
    "maxLength": 64,
    "description": "The live-selfie challenge (POST .../challenge) the two selfies answer: "
    "looking at the camera, then turned the way it asks. Required unless the session's "
    "selfie policy is live_or_gallery.",
}


@router.post(
    "/api/v1/sessions/{session_id}/search",
    response_model=SearchResponse,
    summary="Find a guest's photos of a session with 1-3 selfies",
    responses=error_responses(400, 403, 404, 413, 422, 429, 503),
    openapi_extra=_SEARCH_BODY,
)
async def search(
    session_id: uuid.UUID,
    request: Request,
    response: Response,
    settings: SettingsDep,
    own_db: OwnDbDep,
    engines: EngineDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
    limiter: RateLimiterDep,
    tokens: TokensDep,
    signer: SignerDep,
    crowd: SearchCrowdDep,
    challenges: ChallengesDep,
    scores: ScoresVisible,
    device: Annotated[str | None, Header(alias=DEVICE_HEADER, description=DEVICE_DOC)] = None,
) -> SearchResponse | JSONResponse:
    """Search the session's faces with the selfie's face; every match in one answer.

    422 with NO_FACE_FOUND, FACE_TOO_SMALL, FACE_BLURRY, FACE_NOT_FRONTAL or FACE_LOW_CONFIDENCE
    when no selfie has a usable face; 429 RATE_LIMITED with Retry-After, or 429 SERVER_BUSY
    with Retry-After and X-FacePass-Queue-Position when too many guests search at once (the
    page says so, waits and retries). A live pair (with `challenge_id`) is refused with 403
    CHALLENGE_INVALID / CHALLENGE_EXPIRED, or 422 LIVE_PAIR_REQUIRED, LIVE_NOT_TURNED,
    LIVE_NOT_SAME_PERSON, LIVE_SPOOF_SUSPECTED, LIVE_COPIED_FACE (a frame is a copy of a face
    the session holds, e.g. a crop of an event photo, not a new capture); without one, 403
    LIVE_SELFIE_REQUIRED where the session's selfie policy is `live`. Selfies are read into
    memory only and never stored. All matches (up to FACEPASS_SEARCH_MAX_RESULTS) come at once
    with signed links; clients page through them locally (`page_size` is a hint). The answer's
    `results_token` and `query_token` let the browser show the gallery again (GET /results)
    and look for new photos (POST /recheck) later without the selfie. Similarities and the
    threshold are shown to admin bearers only; a guest's answer carries matches, not scores.
    """
    started = time.perf_counter()

    async def count_the_search(form: SearchForm) -> None:
        record_usage(session_id, "searches")  # usage analytics: every search with selfies
        record_consent(session_id, form.consent_version)
        if settings.retain_selfies:
            await run_in_threadpool(
                service.retain_selfies, settings.data_dir, session_id, form.selfies
            )

    parts = SelfieParts(
        settings, own_db, engines, pixora, cache, limiter, tokens, crowd, challenges
    )
    query = await embed_request_selfies(request, session_id, parts, on_form=count_the_search)
    engine, embedded = query.engine, query.embedded
    params = service.ranking_params(settings, engines, engine)
    queries = service.query_vectors(embedded)
    found = await run_in_threadpool(
        partial(service.find_photos, own_db, settings, session_id, engine, queries, params)
    )
    answer_profile = SelfieProfile()
    answer = service.build_response(
        session_id=session_id,
        engine=engine,
        params=params,
        queries=queries,
        query_faces=service.describe_queries(embedded),
        skipped=embedded.skipped,
        found=found,
        keys=_keys(settings, signer, tokens),
        page_size=settings.search_page_size,
        max_results=settings.search_max_results,
        started=started,
        profile=answer_profile,
    )
    # Where the time went, for browsers' dev tools and `facepass bench search`.
    timing = service.server_timing(embedded, found, answer.took_ms, answer_profile)
    response.headers["Server-Timing"] = timing
    SEARCHES.labels("ok").inc()
    SEARCH_SECONDS.labels("embed").observe(embedded.elapsed_ms / 1000)
    SEARCH_SECONDS.labels("vector_search").observe(found.vector_ms / 1000)
    SEARCH_SECONDS.labels("total").observe(answer.took_ms / 1000)
    service.log_search(
        session_id,
        selfies=len(embedded.queries) + len(embedded.skipped),
        selfies_used=len(embedded.queries),
        photos_found=answer.total,
        embed_ms=round(embedded.elapsed_ms, 1),
        vector_ms=round(found.vector_ms, 1),
        took_ms=answer.took_ms,
    )
    return answer if scores else JSONResponse(guest_view(answer), headers={"Server-Timing": timing})


@router.get(
    "/api/v1/sessions/{session_id}/results",
    response_model=ResultsResponse,
    summary="Fresh links to the photos of an earlier search (its results token)",
    responses=error_responses(400, 403, 404, 422, 503),
)
async def results(
    session_id: uuid.UUID,
    own_db: OwnDbDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
    tokens: TokensDep,
    signer: SignerDep,
    token: Annotated[str, Query(max_length=20_000, description="`results_token` of a search")],
) -> ResultsResponse:
    """The photos a search found, with new signed links, while the token lasts (7 days by
    default) and the session has FacePass on: a reload or tomorrow shows the gallery again.
    403 INVALID_TOKEN / TOKEN_EXPIRED, or FACEPASS_DISABLED; photos deleted since are left out.
    """
    claim = tokens.read_results(token)
    if claim.session_id != session_id:
        raise Forbidden("These results belong to another session.", code="INVALID_TOKEN")
    await run_in_threadpool(active_session, pixora, cache, session_id)
    return await run_in_threadpool(service.results_of_token, own_db, claim, signer)


@router.post(
    "/api/v1/sessions/{session_id}/recheck",
    response_model=SearchResponse,
    summary="Search again with an earlier search's query token (no selfie): new photos",
    responses=error_responses(400, 403, 404, 409, 422, 429, 503),
)
async def recheck(
    session_id: uuid.UUID,
    body: RecheckRequest,
    request: Request,
    settings: SettingsDep,
    own_db: OwnDbDep,
    engines: EngineDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
    limiter: RateLimiterDep,
    tokens: TokensDep,
    signer: SignerDep,
    scores: ScoresVisible,
    device: Annotated[str | None, Header(alias=DEVICE_HEADER, description=DEVICE_DOC)] = None,
) -> SearchResponse | JSONResponse:
    """The same search as the one that made `query_token`, over the session's photos now (for
    an event where photos keep arriving). The token holds the selfies' face embeddings,
    encrypted with a server key; nothing is stored. 409 QUERY_STALE when the session's index
    now uses another face model (search again with a selfie); limits as for a search."""
    started = time.perf_counter()
    query = tokens.read_query(body.query_token, session_id)
    await check_search_limits(request, session_id, settings, limiter, tokens, pixora, cache)
    engine = await run_in_threadpool(service.engine_for_session, own_db, engines, session_id)
    if engine.model_id != query.model_id or any(
        f.embedding.size != engine.embedding_dim for f in query.faces
    ):
        raise Conflict(
            "The photos were re-indexed with another model; search again with a selfie.",
            code="QUERY_STALE",
        )
    params = service.ranking_params(settings, engines, engine)
    found = await run_in_threadpool(
        partial(service.find_photos, own_db, settings, session_id, engine, query.faces, params)
    )
    answer = service.build_response(
        session_id=session_id,
        engine=engine,
        params=params,
        queries=query.faces,
        query_faces=[],
        skipped=[],
        found=found,
        keys=_keys(settings, signer, tokens, query_expires_at=query.expires_at),
        page_size=settings.search_page_size,
        max_results=settings.search_max_results,
        started=started,
    )
    SEARCHES.labels("recheck").inc()
    service.log_search(session_id, recheck=True, photos_found=answer.total, took_ms=answer.took_ms)
    return answer if scores else JSONResponse(guest_view(answer))
