"""Search's rate-limit checks: per address, session, browser, and for downloads.

The link signer, the guests' tokens and the engine gate are parts of the application context
(facepass.composition.context: `SignerDep`, `TokensDep`, `EngineGateDep`).
"""

from __future__ import annotations

import logging
import uuid

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from facepass.config import Settings
from facepass.errors import RateLimited
from facepass.guest.ratelimit import Limit, RateLimiter
from facepass.guest.tokens import GuestTokens
from facepass.observability.metrics import SEARCHES

logger = logging.getLogger(__name__)
DEVICE_HEADER = "X-FacePass-Device"
DEVICE_DOC = (
    "The signed device token the guest page hands out: rate limits then count per browser "
    "(FACEPASS_SEARCH_DEVICE_RATE_LIMIT) rather than per address. Optional."
)


def client_address(request: Request) -> str:
    """The guest's address: the TCP peer, or behind a reverse proxy listed in
    FACEPASS_FORWARDED_ALLOW_IPS, the address it forwards (facepass.http.proxies); nobody
    else's X-Forwarded-For is believed, so it cannot be spoofed."""
    return request.client.host if request.client else "unknown"


async def check_rate_limit(
    limiter: RateLimiter, scope: str, key: str, spec: str, what: str = "searches"
) -> None:
    """429 RATE_LIMITED with Retry-After when `key` has used up its limit."""
    limit = Limit.parse(spec)
    decision = await run_in_threadpool(limiter.hit, scope, key, limit)
    if not decision.allowed:
        if what == "searches":
            SEARCHES.labels("rate_limited").inc()
        raise RateLimited(
            f"Too many {what}; try again in {decision.retry_after_s} seconds.",
            headers={"Retry-After": str(decision.retry_after_s)},
        )


async def check_client_limit(request: Request, limiter: RateLimiter, settings: Settings) -> None:
    """The per-address limit (FACEPASS_SEARCH_RATE_LIMIT): high, against floods only, since a
    venue's Wi-Fi or a carrier's NAT puts many guests behind one address."""
    await check_rate_limit(
        limiter, "search-client", client_address(request), settings.search_rate_limit
    )


async def check_session_limit(
    limiter: RateLimiter, settings: Settings, session_id: uuid.UUID
) -> None:
    """The per-session limit (FACEPASS_SEARCH_SESSION_RATE_LIMIT), against floods on one event."""
    await check_rate_limit(
        limiter, "search-session", str(session_id), settings.search_session_rate_limit
    )


async def check_download_limit(
    request: Request, limiter: RateLimiter, settings: Settings, tokens: GuestTokens
) -> None:
    """ZIP downloads (FACEPASS_DOWNLOAD_RATE_LIMIT) per browser when the guest page's device
    token comes with the request, else per address; with a token, the address still has a
    flood limit (FACEPASS_SEARCH_RATE_LIMIT), as for searches."""
    device = tokens.device_id(request.headers.get(DEVICE_HEADER))
    if device:
        await check_rate_limit(
            limiter,
            "download-flood",
            client_address(request),
            settings.search_rate_limit,
            what="downloads",
        )
    key = f"device:{device}" if device else client_address(request)
    await check_rate_limit(
        limiter, "download-client", key, settings.download_rate_limit, what="downloads"
    )


async def check_device_limit(
    request: Request, limiter: RateLimiter, settings: Settings, tokens: GuestTokens
) -> None:
    """The per-browser limit (FACEPASS_SEARCH_DEVICE_RATE_LIMIT), keyed by the signed device
    token the guest page sends; a client without a valid one is counted by its address."""
    device = tokens.device_id(request.headers.get(DEVICE_HEADER))
    key = f"device:{device}" if device else f"address:{client_address(request)}"
    await check_rate_limit(limiter, "search-device", key, settings.search_device_rate_limit)


async def check_opt_out_limits(
    request: Request, limiter: RateLimiter, settings: Settings, tokens: GuestTokens
) -> None:
    """Opt-outs are few: FACEPASS_OPT_OUT_RATE_LIMIT per address and
    FACEPASS_OPT_OUT_DEVICE_RATE_LIMIT per browser (a few an hour each)."""
    address = client_address(request)
    await check_rate_limit(
        limiter, "opt-out-client", address, settings.opt_out_rate_limit, what="opt-outs"
    )
    device = tokens.device_id(request.headers.get(DEVICE_HEADER))
    key = f"device:{device}" if device else f"address:{address}"
    await check_rate_limit(
        limiter, "opt-out-device", key, settings.opt_out_device_rate_limit, what="opt-outs"
    )
