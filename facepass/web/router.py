"""The guest page: `/api/v1/sessions/{id}/interface`, its QR-code alias `/s/{id}`, and assets.

The session is validated on the server before anything is sent, so a guest with a stale link
sees a friendly page (404 unknown, 403 FacePass off, 503 Pixora down) in their language
instead of a camera that can only fail.
"""

from __future__ import annotations

import logging
import threading
import uuid

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from facepass.errors import FacePassError, NotFound
from facepass.pixora.validation import validate_session
from facepass.resources import Resources
from facepass.web.assets import ASSET_NAMES, load_asset
from facepass.web.i18n import LANGUAGE_COOKIE, Language, choose_language
from facepass.web.pages import PAGE_HEADERS, render_error_page, render_guest_page

logger = logging.getLogger(__name__)
router = APIRouter(tags=["guest page"])

SELFIE_MAX_SIDE_PX = 1024  # the page downscales selfies to this before upload
LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600


def _page(body: str, status: int, lang: Language, remember: bool) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    if remember:
        response.set_cookie(
            LANGUAGE_COOKIE, lang, max_age=LANGUAGE_COOKIE_MAX_AGE_S, samesite="lax", path="/"
        )
    return response


def _warm_engine(resources: Resources) -> None:
    """Load the face engine while the guest frames a selfie, not when they press search."""
    if "face_engine" in vars(resources):
        return
    threading.Thread(
        target=lambda: resources.face_engine, name="engine-warm-up", daemon=True
    ).start()


async def _guest_page(request: Request, session_id: str, lang_param: str | None) -> HTMLResponse:
    lang = choose_language(
        lang_param,
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )
    remember = lang_param == lang
    try:
        parsed = uuid.UUID(session_id)
    except ValueError:
        return _page(render_error_page(lang, 404), 404, lang, remember)
    resources = request.app.state.resources
    try:
        validation = await run_in_threadpool(validate_session, resources, parsed)
    except FacePassError as exc:  # Pixora unreachable: the page says so, nothing more
        return _page(render_error_page(lang, 503), exc.status_code, lang, remember)
    if validation.session is None:
        return _page(render_error_page(lang, 404), 404, lang, remember)
    if not validation.session.facepass_enabled:
        return _page(render_error_page(lang, 403), 403, lang, remember)
    _warm_engine(resources)
    settings = resources.settings
    body = render_guest_page(
        lang,
        session_id=str(parsed),
        session_name=validation.session.name,
        page_config={
            "session_id": str(parsed),
            "search_url": f"/api/v1/sessions/{parsed}/search",
            "max_selfies": settings.search_max_selfies,
            "max_side": SELFIE_MAX_SIDE_PX,
            "page_size": settings.search_page_size,
        },
    )
    return _page(body, 200, lang, remember)


@router.get(
    "/api/v1/sessions/{session_id}/interface",
    response_class=HTMLResponse,
    summary="The guest page of a session (camera, selfie search, gallery)",
)
async def session_interface(
    session_id: str,
    request: Request,
    lang: str | None = Query(None, description="ru or en; remembered in a cookie"),
) -> HTMLResponse:
    """The guest page; friendly HTML pages for unknown (404) or disabled (403) sessions."""
    return await _guest_page(request, session_id, lang)


@router.get("/s/{session_id}", response_class=HTMLResponse, include_in_schema=False)
async def short_link(
    session_id: str, request: Request, lang: str | None = Query(None)
) -> HTMLResponse:
    """The same page under a short path, for QR codes."""
    return await _guest_page(request, session_id, lang)


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
