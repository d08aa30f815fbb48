"""The one selfie pipeline: limits, then the form, then the session's engine, then the faces.

Search and opt-out run `embed_request_selfies`; recheck (no selfie: a query token) runs its
first step, `check_search_limits`. The order matters: the per-address flood limit first, so
nobody can probe session ids or load the engine unchecked; then the session must be active;
then the session's and the browser's limits (the one a guest normally meets); only then is the
form read, and the images live until their faces are embedded, never longer.

A route adds its own steps through the two hooks: `extra_limits` (after the search's limits,
before the form: the opt-out's own limits) and `on_form` (after the form, before the engine:
the search's usage and consent counts).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.engine import FaceEngine
from facepass.engine_config import Engines
from facepass.guest.challenge import ChallengeRefused, ChallengeStore
from facepass.guest.limits import check_client_limit, check_device_limit, check_session_limit
from facepass.guest.ratelimit import RateLimiter
from facepass.guest.selfies import SearchForm, read_search_form
from facepass.guest.tokens import GuestTokens
from facepass.observability.metrics import SEARCHES
from facepass.pixora.cache import ValidationCache
from facepass.pixora.database import PixoraDatabase
from facepass.pixora.validation import active_session
from facepass.search.crowd import SearchCrowd, ServerBusy
from facepass.search.live import LivePairRefused, LiveSelfieRequired, embed_guest_selfies
from facepass.search.query import SelfieRejected
from facepass.search.service import Embedded, engine_for_session, log_search


@dataclass(frozen=True, slots=True)
class SelfieParts:
    """The parts of the application a selfie route uses (the route passes its dependencies)."""

    settings: Settings
    own_db: OwnDatabase
    engines: Engines
    pixora: PixoraDatabase
    cache: ValidationCache
    limiter: RateLimiter
    tokens: GuestTokens
    crowd: SearchCrowd  # the engine gate (one call per core at once), line and batcher
    challenges: ChallengeStore  # live-selfie challenges (search/live.py)


@dataclass(frozen=True, slots=True)
class SelfieQuery:
    """What a route keeps of a guest's selfies: the engine and their faces, never the images."""

    engine: FaceEngine
    embedded: Embedded
    consent_version: str | None


async def check_search_limits(
    request: Request,
    session_id: uuid.UUID,
    settings: Settings,
    limiter: RateLimiter,
    tokens: GuestTokens,
    pixora: PixoraDatabase,
    cache: ValidationCache,
) -> None:
    # Per-address flood limit first, so nobody can probe session ids or load the engine
    # unchecked; then the session's, then the browser's (the one a guest normally meets).
    await check_client_limit(request, limiter, settings)
    await run_in_threadpool(active_session, pixora, cache, session_id)
    await check_session_limit(limiter, settings, session_id)
    await check_device_limit(request, limiter, settings, tokens)


async def embed_request_selfies(
    request: Request,
    session_id: uuid.UUID,
    parts: SelfieParts,
    *,
    extra_limits: Callable[[], Awaitable[None]] | None = None,
    on_form: Callable[[SearchForm], Awaitable[None]] | None = None,
    always_live: bool = False,
) -> SelfieQuery:
    """Limits, the form, the engine that embeds like the session's index, the selfies' faces.

    422 (SelfieRejected's codes) when no selfie has a usable face, counted as a `no_face`
    search; 429 SERVER_BUSY when this process's line is full (facepass.search.crowd), counted
    as `busy`; a pair that is not live (search/live.py: the session's selfie policy, the
    challenge, the pair; `always_live` for the opt-out) is counted as `not_live`; any other
    failure propagates uncounted (it is not the guest's selfie's fault).
    """
    settings = parts.settings
    await check_search_limits(
        request, session_id, settings, parts.limiter, parts.tokens, parts.pixora, parts.cache
    )
    if extra_limits is not None:
        await extra_limits()
    form = await read_search_form(
        request,
        max_count=settings.search_max_selfies,
        max_bytes=settings.search_max_selfie_bytes,
        max_pixels=settings.search_max_selfie_pixels,
    )
    try:
        if on_form is not None:
            await on_form(form)
        engine = await run_in_threadpool(
            engine_for_session, parts.own_db, parts.engines, session_id
        )
        try:
            embedded = await embed_guest_selfies(
                own_db=parts.own_db,
                settings=settings,
                challenges=parts.challenges,
                engine=engine,
                crowd=parts.crowd,
                session_id=session_id,
                form=form,
                always_live=always_live,
            )
        except ServerBusy:
            SEARCHES.labels("busy").inc()
            raise
        except SelfieRejected as exc:
            SEARCHES.labels("no_face").inc()
            log_search(session_id, selfies=len(form.selfies), outcome=exc.code)
            raise
        except (LivePairRefused, LiveSelfieRequired, ChallengeRefused) as exc:
            SEARCHES.labels("not_live").inc()
            log_search(session_id, selfies=len(form.selfies), outcome=exc.code)
            raise
        return SelfieQuery(engine, embedded, form.consent_version)
    finally:
        del form  # nothing of the images outlives the embedding step, not even in a traceback
