"""The guest page: `/api/v1/sessions/{id}/interface`, its QR-code alias `/s/{id}`, and assets.

The session is validated on the server before anything is sent, so a guest with a stale link
sees a friendly page (404 unknown, 403 FacePass off, 503 Pixora down) in their language
instead of a camera that can only fail.
"""

from __future__ import annotations

import gzip
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from facepass.api.dependencies import (
    EngineDep,
    OwnDbDep,
    PixoraDep,
    RateLimiterDep,
    SettingsDep,
    SignerDep,
    TokensDep,
    ValidationCacheDep,
)
from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.engine_config import Engines
from facepass.errors import FacePassError, NotFound
from facepass.guest.limits import DEVICE_HEADER, client_address
from facepass.guest.ratelimit import Limit, RateLimiter
from facepass.guest.signing import MediaSigner
from facepass.guest.tokens import GuestTokens
from facepass.pixora.cache import ValidationCache
from facepass.pixora.database import PixoraDatabase
from facepass.pixora.schemas import SessionInfo
from facepass.pixora.validation import validate_session
from facepass.search.selfie_policy import SelfiePolicy, policy_of
from facepass.web.assets import ASSET_NAMES, asset_url, load_asset
from facepass.web.branding import (
    SessionBranding,
    cover_face_box,
    load_branding,
    readable_on,
    text_accent,
)
from facepass.web.i18n import CONSENT_VERSION, LANGUAGE_COOKIE, Language, choose_language
from facepass.web.pages import (
    PAGE_HEADERS,
    ConsentView,
    EventView,
    render_error_page,
    render_guest_page,
)

logger = logging.getLogger(__name__)
router = APIRouter(tags=["guest page"])

SELFIE_MAX_SIDE_PX = 1024  # the page downscales selfies to this before upload
LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600
# Photos handed to the share sheet at once: iOS and Android take ten full-size photos in one
# share reliably, longer lists fail or time out, so "Save all to Photos" goes ten per tap.
SHARE_BATCH_FILES = 10


def _page(request: Request, body: str, status: int, lang: Language, remember: bool) -> HTMLResponse:
    # Gzipped when the browser takes it: on a venue's 3G every kilobyte is felt. (Nothing a
    # third party controls is reflected into the page, so compression reveals nothing.)
    if "gzip" in request.headers.get("accept-encoding", ""):
        response = HTMLResponse(
            gzip.compress(body.encode(), compresslevel=6, mtime=0),
            status_code=status,
            headers={**PAGE_HEADERS, "Content-Encoding": "gzip"},
        )
    else:
        response = HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Accept-Encoding, Cookie"
    if remember:
        response.set_cookie(
            LANGUAGE_COOKIE, lang, max_age=LANGUAGE_COOKIE_MAX_AGE_S, samesite="lax", path="/"
        )
    return response


@dataclass(frozen=True, slots=True)
class PageParts:
    """What the guest page reads: the session (Pixora, cache), branding, signer and tokens."""

    settings: Settings
    own_db: OwnDatabase
    pixora: PixoraDatabase
    cache: ValidationCache
    engines: Engines
    signer: MediaSigner
    tokens: GuestTokens
    limiter: RateLimiter


async def _page_parts(
    settings: SettingsDep,
    own_db: OwnDbDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
    engines: EngineDep,
    signer: SignerDep,
    tokens: TokensDep,
    limiter: RateLimiterDep,
) -> PageParts:
    return PageParts(settings, own_db, pixora, cache, engines, signer, tokens, limiter)


PagePartsDep = Annotated[PageParts, Depends(_page_parts)]


def _warm_engine(engines: Engines) -> None:
    """Load the face engine while the guest frames a selfie, not when they press search."""
    if engines.loaded:
        return
    threading.Thread(target=engines.get, name="engine-warm-up", daemon=True).start()


async def _guest_page(
    request: Request, parts: PageParts, session_id: str, lang_param: str | None
) -> HTMLResponse:
    lang = choose_language(
        lang_param,
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )
    remember = lang_param == lang
    try:
        parsed = uuid.UUID(session_id)
    except ValueError:
        return _page(request, render_error_page(lang, 404), 404, lang, remember)
    try:
        validation = await run_in_threadpool(validate_session, parts.pixora, parts.cache, parsed)
    except FacePassError as exc:  # Pixora unreachable: the page says so, nothing more
        return _page(request, render_error_page(lang, 503), exc.status_code, lang, remember)
    if validation.session is None:
        return _page(request, render_error_page(lang, 404), 404, lang, remember)
    if not validation.session.facepass_enabled:
        branding = await run_in_threadpool(_branding, parts.own_db, parsed)
        name = (branding.event_name if branding else None) or validation.session.name
        studio = branding.studio_name if branding else None
        page = render_error_page(lang, 403, event_name=name, studio=studio)
        return _page(request, page, 403, lang, remember)
    _warm_engine(parts.engines)
    branding = await run_in_threadpool(_branding, parts.own_db, parsed)
    device_token = await run_in_threadpool(_device_token, parts, client_address(request))
    cover_box = None
    if branding and branding.cover_photo_id:
        cover_box = await run_in_threadpool(_cover, parts.own_db, parsed, branding.cover_photo_id)
    policy = await run_in_threadpool(policy_of, parts.own_db, parts.settings, parsed)
    body = _render(
        parts, lang, parsed, validation.session, branding, device_token, cover_box, policy
    )
    return _page(request, body, 200, lang, remember)


def _branding(own_db: OwnDatabase, session_id: uuid.UUID) -> SessionBranding | None:
    try:
        with own_db.sessions() as db:
            return load_branding(db, session_id)
    except Exception:  # the page works unbranded rather than not at all
        logger.warning("branding unavailable", exc_info=True)
        return None


def _device_token(parts: PageParts, address: str) -> str:
    """A fresh device token while the address has minted fewer than
    FACEPASS_DEVICE_MINT_RATE_LIMIT, else the address's own: reloading the page for fresh
    tokens buys no fresh limits. (A browser keeps its token; it needs no new one per load.)"""
    limit = Limit.parse(parts.settings.device_mint_rate_limit)
    if parts.limiter.hit("device-mint", address, limit).allowed:
        return parts.tokens.new_device_token()
    return parts.tokens.address_device_token(address)


def _cover(
    own_db: OwnDatabase, session_id: uuid.UUID, photo_id: uuid.UUID
) -> tuple[float, float, float, float] | None:
    try:
        with own_db.sessions() as db:
            return cover_face_box(db, session_id, photo_id)
    except Exception:  # the page works without its cover rather than not at all
        logger.warning("cover unavailable", exc_info=True)
        return None


def _render(
    parts: PageParts,
    lang: Language,
    session_id: uuid.UUID,
    session: SessionInfo,
    branding: SessionBranding | None,
    device_token: str,
    cover_box: tuple[float, float, float, float] | None = None,
    policy: SelfiePolicy = SelfiePolicy.LIVE,
) -> str:
    settings = parts.settings
    signer = parts.signer
    base = f"/api/v1/sessions/{session_id}"
    studio = branding.studio_name if branding else None
    cover = branding.cover_photo_id if branding else None
    logo = f"{base}/logo" if branding and branding.logo else None
    event = EventView(
        name=(branding.event_name if branding else None) or session.name,
        date=branding.event_date if branding else None,
        studio=studio,
        logo_url=logo,
        # A 640 x 320 crop around the cover's faces (about 30 KB), not the 1600 px 'large'.
        cover_url=signer.crop_path(cover, "cover", cover_box, signer.expiry())
        if cover and cover_box
        else None,
    )
    config: dict[str, Any] = {
        "session_id": str(session_id),
        "event_name": event.name,
        "event_date": event.date.isoformat() if event.date else None,
        "search_url": f"{base}/search",
        "results_url": f"{base}/results",
        "recheck_url": f"{base}/recheck",
        "opt_out_url": f"{base}/opt-out",
        "challenge_url": f"{base}/challenge",
        "selfie_policy": policy.value,  # "live": no gallery photo; an opt-out is always live
        "removal_review_days": settings.removal_review_days,
        "download_url": f"{base}/download",
        # "Send me my photos" only where the operator configured outgoing mail.
        "email_url": f"{base}/results/email" if settings.smtp_url else None,
        "merge_url": f"{base}/results/merge",  # "me and my family"
        "consent_version": CONSENT_VERSION,
        "device_token": device_token,
        "device_header": DEVICE_HEADER,
        "max_selfies": settings.search_max_selfies,
        "max_side": SELFIE_MAX_SIDE_PX,
        "page_size": settings.search_page_size,
        "share_batch": SHARE_BATCH_FILES,
        "upload_timeout_ms": int(settings.search_upload_timeout_s * 1000),
    }
    if branding and branding.accent_color:
        config["accent"] = branding.accent_color
        config["accent_fg"] = readable_on(branding.accent_color)
        # Links and outlined buttons show the accent as text: only where it reads.
        config["accent_text"] = text_accent(branding.accent_color, "#ffffff", "#16181d")
        config["accent_text_dark"] = text_accent(branding.accent_color, "#121418", "#eef0f3")
    public = settings.public_base_url.rstrip("/") if settings.public_base_url else None
    return render_guest_page(
        lang,
        event=event,
        consent=ConsentView(
            operator=settings.operator_name,
            policy_url=settings.privacy_policy_url,
            link_minutes=settings.media_url_ttl_s // 60,
            results_days=max(1, settings.results_token_ttl_s // 86400),
        ),
        page_config=config,
        public_url=f"{public}/s/{session_id}" if public else None,
        og_image=f"{public}{logo}" if public and logo else None,
    )


@router.get(
    "/api/v1/sessions/{session_id}/interface",
    response_class=HTMLResponse,
    summary="The guest page of a session (camera, selfie search, gallery)",
    responses={
        status: {"description": reason, "content": {"text/html": {"schema": {"type": "string"}}}}
        for status, reason in ((403, "FacePass is off"), (404, "No such session"))
    },
)
async def session_interface(
    session_id: str,
    request: Request,
    parts: PagePartsDep,
    lang: str | None = Query(None, description="ru or en; remembered in a cookie"),
) -> HTMLResponse:
    """The guest page; friendly HTML pages for unknown (404) or disabled (403) sessions."""
    return await _guest_page(request, parts, session_id, lang)


@router.get("/s/{session_id}", response_class=HTMLResponse, include_in_schema=False)
async def short_link(
    session_id: str, request: Request, parts: PagePartsDep, lang: str | None = Query(None)
) -> HTMLResponse:
    """The same page under a short path, for QR codes."""
    return await _guest_page(request, parts, session_id, lang)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> RedirectResponse:
    """Browsers that ask for /favicon.ico get the page's SVG icon."""
    return RedirectResponse(asset_url("favicon.svg"), status_code=301)


@router.get("/assets/{name}", include_in_schema=False)
async def asset(name: str, request: Request) -> Response:
    """The page's CSS and JS; immutable (URLs carry a content hash), gzipped when accepted."""
    if name not in ASSET_NAMES:
        raise NotFound("No such asset.")
    item = load_asset(name)
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        "ETag": f'"{item.version}"',
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(item.gzipped, media_type=item.content_type, headers=headers)
    return Response(item.body, media_type=item.content_type, headers=headers)
