"""Per-application parts of search, built on first use: the link signer, the guests' tokens,
the engine gate, and the rate-limit checks."""

from __future__ import annotations

import logging
import os
import secrets
import uuid

from anyio import CapacityLimiter
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from facepass.errors import RateLimited
from facepass.observability.metrics import SEARCHES
from facepass.resources import Resources
from facepass.search.ratelimit import Limit
from facepass.search.signing import MediaSigner
from facepass.search.tokens import GuestTokens

logger = logging.getLogger(__name__)
DEVICE_HEADER = "X-FacePass-Device"


def _secret(state: object) -> str:
    """The media signing key; without one (development only) a random key for this process."""
    secret: str | None = getattr(state, "signing_secret", None)
    if secret is None:
        secret = state.resources.settings.media_signing_key  # type: ignore[attr-defined]
        if not secret:
            # Production refuses to start without a key; here links just die with the process.
            logger.warning("FACEPASS_MEDIA_SIGNING_KEY is not set; using a random per-process key")
            secret = secrets.token_urlsafe(32)
        state.signing_secret = secret  # type: ignore[attr-defined]
    return secret


def media_signer(request: Request) -> MediaSigner:
    """The application's signer of media links (one key per process)."""
    state = request.app.state
    signer: MediaSigner | None = getattr(state, "media_signer", None)
    if signer is None:
        signer = MediaSigner(_secret(state), state.resources.settings.media_url_ttl_s)
        state.media_signer = signer
    return signer


def guest_tokens(request: Request) -> GuestTokens:
    """The application's results, query and device tokens (keys derived from the same secret)."""
    state = request.app.state
    tokens: GuestTokens | None = getattr(state, "guest_tokens", None)
    if tokens is None:
        tokens = GuestTokens(_secret(state))
        state.guest_tokens = tokens
    return tokens


def engine_gate(request: Request) -> CapacityLimiter:
    """At most one engine call per core at once: more would only slow every guest down."""
    state = request.app.state
    gate: CapacityLimiter | None = getattr(state, "engine_gate", None)
    if gate is None:
        gate = CapacityLimiter(max(1, os.cpu_count() or 1))
        state.engine_gate = gate
    return gate


def client_address(request: Request) -> str:
    """The guest's address: the TCP peer, or behind a reverse proxy listed in
    FACEPASS_FORWARDED_ALLOW_IPS, the address it forwards (facepass.http.proxies); nobody
    else's X-Forwarded-For is believed, so it cannot be spoofed."""
    return request.client.host if request.client else "unknown"


async def check_rate_limit(
    resources: Resources, scope: str, key: str, spec: str, what: str = "searches"
) -> None:
    """429 RATE_LIMITED with Retry-After when `key` has used up its limit."""
    limit = Limit.parse(spec)
    decision = await run_in_threadpool(resources.rate_limiter.hit, scope, key, limit)
    if not decision.allowed:
        if what == "searches":
            SEARCHES.labels("rate_limited").inc()
        raise RateLimited(
            f"Too many {what}; try again in {decision.retry_after_s} seconds.",
            headers={"Retry-After": str(decision.retry_after_s)},
        )


async def check_client_limit(request: Request) -> None:
    """The per-address limit (FACEPASS_SEARCH_RATE_LIMIT): high, against floods only, since a
    venue's Wi-Fi or a carrier's NAT puts many guests behind one address."""
    resources: Resources = request.app.state.resources
    await check_rate_limit(
        resources, "search-client", client_address(request), resources.settings.search_rate_limit
    )


async def check_session_limit(request: Request, session_id: uuid.UUID) -> None:
    """The per-session limit (FACEPASS_SEARCH_SESSION_RATE_LIMIT), against floods on one event."""
    resources: Resources = request.app.state.resources
    await check_rate_limit(
        resources, "search-session", str(session_id), resources.settings.search_session_rate_limit
    )


async def check_download_limit(request: Request) -> None:
    """ZIP downloads (FACEPASS_DOWNLOAD_RATE_LIMIT) per browser when the guest page's device
    token comes with the request, else per address; with a token, the address still has a
    flood limit (FACEPASS_SEARCH_RATE_LIMIT), as for searches."""
    resources: Resources = request.app.state.resources
    settings = resources.settings
    device = guest_tokens(request).device_id(request.headers.get(DEVICE_HEADER))
    if device:
        await check_rate_limit(
            resources,
            "download-flood",
            client_address(request),
            settings.search_rate_limit,
            what="downloads",
        )
    key = f"device:{device}" if device else client_address(request)
    await check_rate_limit(
        resources, "download-client", key, settings.download_rate_limit, what="downloads"
    )


async def check_device_limit(request: Request) -> None:
    """The per-browser limit (FACEPASS_SEARCH_DEVICE_RATE_LIMIT), keyed by the signed device
    token the guest page sends; a client without a valid one is counted by its address."""
    resources: Resources = request.app.state.resources
    device = guest_tokens(request).device_id(request.headers.get(DEVICE_HEADER))
    key = f"device:{device}" if device else f"address:{client_address(request)}"
    await check_rate_limit(
        resources, "search-device", key, resources.settings.search_device_rate_limit
    )
