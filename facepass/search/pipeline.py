"""The selfie pipeline every selfie route runs: limits, then the form, then the engine.

Search, recheck and opt-out all start here, in this order: the per-address flood limit first,
so nobody can probe session ids or load the engine unchecked; then the session must be active;
then the session's and the browser's limits (the one a guest normally meets).
"""

from __future__ import annotations

import uuid

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from facepass.config import Settings
from facepass.guest.limits import check_client_limit, check_device_limit, check_session_limit
from facepass.guest.ratelimit import RateLimiter
from facepass.guest.tokens import GuestTokens
from facepass.pixora.cache import ValidationCache
from facepass.pixora.database import PixoraDatabase
from facepass.pixora.validation import active_session


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
