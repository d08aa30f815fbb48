"""POST /api/v1/sessions/{id}/search: a guest's selfies in, their photos of the session out."""

from __future__ import annotations

import time
import uuid
from functools import partial
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from facepass.errors import error_responses
from facepass.observability.metrics import SEARCH_SECONDS, SEARCHES
from facepass.pixora.validation import require_active_session
from facepass.resources import Resources
from facepass.search import service
from facepass.search.dependencies import (
    check_client_limit,
    check_session_limit,
    engine_gate,
    media_signer,
)
from facepass.search.media import router as media_router
from facepass.search.query import SelfieRejected
from facepass.search.schemas import SearchResponse
from facepass.search.selfies import SELFIE_FIELD, read_selfies
from facepass.sessions.usage import record_usage

router = APIRouter(tags=["search"])
router.include_router(media_router)

MULTIPART_SELFIES: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [SELFIE_FIELD],
                    "properties": {
                        SELFIE_FIELD: {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "minItems": 1,
                            "maxItems": 3,
                            "description": "1 to 3 selfies (repeat the field); JPEG, PNG, HEIC…",
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/api/v1/sessions/{session_id}/search",
    response_model=SearchResponse,
    summary="Find a guest's photos of a session with 1-3 selfies",
    responses=error_responses(400, 403, 404, 413, 422, 429, 503),
    openapi_extra=MULTIPART_SELFIES,
)
async def search(session_id: uuid.UUID, request: Request, response: Response) -> SearchResponse:
    """Search the session's faces with the selfie's face; every match in one answer.

    422 with NO_FACE_FOUND, FACE_TOO_SMALL, FACE_BLURRY, FACE_NOT_FRONTAL or FACE_LOW_CONFIDENCE
    when no selfie has a usable face; 429 RATE_LIMITED with Retry-After. Selfies are read into
    memory only and never stored. All matches (up to FACEPASS_SEARCH_MAX_RESULTS) come at once
    with signed links; clients page through them locally (`page_size` is a hint).
    """
    started = time.perf_counter()
    resources: Resources = request.app.state.resources
    settings = resources.settings
    # Per-address limit first, so nobody can probe session ids or load the engine unchecked.
    await check_client_limit(request)
    await run_in_threadpool(require_active_session, session_id, request)
    await check_session_limit(request, session_id)
    selfies = await read_selfies(
        request,
        max_count=settings.search_max_selfies,
        max_bytes=settings.search_max_selfie_bytes,
        max_pixels=settings.search_max_selfie_pixels,
    )
    record_usage(session_id, "searches")  # usage analytics: every search with selfies
    if settings.retain_selfies:
        await run_in_threadpool(service.retain_selfies, settings.data_dir, session_id, selfies)
    engine = await run_in_threadpool(service.engine_for_session, resources, session_id)
    try:
        embedded = await to_thread.run_sync(
            service.embed_selfies, engine, selfies, limiter=engine_gate(request)
        )
    except SelfieRejected as exc:
        SEARCHES.labels("no_face").inc()
        service.log_search(session_id, selfies=len(selfies), outcome=exc.code)
        raise
    del selfies  # nothing of the images outlives the embedding step
    params = service.ranking_params(resources, engine)
    found = await run_in_threadpool(
        partial(service.find_photos, resources, session_id, engine, embedded.queries, params)
    )
    answer = service.build_response(
        session_id=session_id,
        engine=engine,
        params=params,
        embedded=embedded,
        found=found,
        signer=media_signer(request),
        page_size=settings.search_page_size,
        max_results=settings.search_max_results,
        started=started,
    )
    # Where the time went, for browsers' dev tools and `facepass bench search`.
    response.headers["Server-Timing"] = (
        f"embed;dur={embedded.elapsed_ms:.1f}, vector;dur={found.vector_ms:.1f}, "
        f"total;dur={answer.took_ms:.1f}"
    )
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
    return answer
