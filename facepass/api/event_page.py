"""How guests arrive and what they see of the event: QR code, printable poster, branding.

- `GET /api/v1/sessions/{id}/qr.svg|qr.png`: the guest page's public URL as a QR code (segno).
- `GET /api/v1/sessions/{id}/poster`: a print-ready A4/A5 page with the QR, the event's name
  and one line of instructions in Russian and English.
- `PUT|GET /api/v1/sessions/{id}/branding` (admin) and `GET /api/v1/sessions/{id}/logo`.
"""

from __future__ import annotations

import io
import re
import uuid
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import text

from facepass.api.admin import AdminAuth
from facepass.api.dependencies import DbSession, SettingsDep, require_existing_session
from facepass.config import Settings
from facepass.errors import FacePassError, NotFound, UnprocessableInput, error_responses
from facepass.pixora.schemas import SessionInfo
from facepass.web.branding import (
    BrandingIn,
    BrandingOut,
    branding_out,
    load_branding,
    save_branding,
)
from facepass.web.pages import PAGE_HEADERS, render_poster

router = APIRouter(tags=["event"])

ExistingSession = Annotated[SessionInfo, Depends(require_existing_session)]
_SESSION_ERRORS = error_responses(400, 404, 422, 503)
_PUBLIC_CACHE = "public, max-age=3600"
# A Host a QR code may carry (development only: production prints FACEPASS_PUBLIC_BASE_URL).
_HOST = re.compile(
    r"(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?"
)
_MAX_HOST = 255
_MAX_QR_SIDE_PX = 2400  # a poster's QR at 300 dpi is ~1,200 px; more only costs CPU


class InvalidHost(FacePassError):
    status_code = 400
    code = "INVALID_HOST"


# The poster is HTML, its errors JSON: said explicitly, or FastAPI would list them as HTML.
_POSTER_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    for status, description in (
        (400, "Host header unusable for the guest URL"),
        (404, "No such session"),
        (422, "Validation error"),
        (503, "Pixora unavailable"),
    )
}


def guest_url(settings: Settings, request: Request, session_id: uuid.UUID) -> str:
    """The guest page's public URL: FACEPASS_PUBLIC_BASE_URL (always set in production, which
    refuses to start without it), else, in development, the URL of this request, whose Host
    must be a plain host name or address of at most 255 characters (400 INVALID_HOST)."""
    base = settings.public_base_url
    if not base:
        host = request.headers.get("host", "")
        if len(host) > _MAX_HOST or not _HOST.fullmatch(host):
            raise InvalidHost("The Host header is not a usable host name.")
        base = str(request.base_url)
    return f"{base.rstrip('/')}/s/{session_id}"


def _cache(settings: Settings) -> dict[str, str]:
    # A URL taken from this request's Host header must not sit in a shared cache.
    configured = settings.public_base_url
    return {"Cache-Control": _PUBLIC_CACHE if configured else "private, max-age=300"}


def _qr(settings: Settings, request: Request, session_id: uuid.UUID) -> segno.QRCode:
    # Error correction M: survives a crease or a smudge on a printed poster.
    return segno.make(guest_url(settings, request, session_id), error="m", boost_error=False)


@router.get(
    "/api/v1/sessions/{session_id}/qr.svg",
    summary="QR code of the session's guest page (SVG)",
    responses={200: {"content": {"image/svg+xml": {}}}, **_SESSION_ERRORS},
    response_class=Response,
)
def qr_svg(
    session_id: uuid.UUID, request: Request, _session: ExistingSession, settings: SettingsDep
) -> Response:
    """The public guest URL (FACEPASS_PUBLIC_BASE_URL + /s/{id}) as a scalable QR code."""
    buffer = io.BytesIO()
    _qr(settings, request, session_id).save(buffer, kind="svg", scale=10, border=4, xmldecl=False)
    return Response(buffer.getvalue(), media_type="image/svg+xml", headers=_cache(settings))


@router.get(
    "/api/v1/sessions/{session_id}/qr.png",
    summary="QR code of the session's guest page (PNG)",
    responses={200: {"content": {"image/png": {}}}, **_SESSION_ERRORS},
    response_class=Response,
)
def qr_png(
    session_id: uuid.UUID,
    request: Request,
    _session: ExistingSession,
    settings: SettingsDep,
    scale: Annotated[int, Query(ge=1, le=40, description="Pixels per module")] = 10,
) -> Response:
    """The public guest URL as a PNG QR code; 422 QR_TOO_LARGE past 2,400 px a side."""
    code = _qr(settings, request, session_id)
    if max(code.symbol_size(scale=scale, border=4)) > _MAX_QR_SIDE_PX:
        raise UnprocessableInput(
            f"A QR code this large is never needed; ask for at most {_MAX_QR_SIDE_PX} px a side.",
            code="QR_TOO_LARGE",
        )
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4)
    return Response(buffer.getvalue(), media_type="image/png", headers=_cache(settings))


@router.get(
    "/api/v1/sessions/{session_id}/poster",
    summary="Printable A4/A5 poster: QR code, event name, instructions in both languages",
    response_class=HTMLResponse,
    responses=_POSTER_ERRORS,
)
def poster(
    session_id: uuid.UUID,
    request: Request,
    session: ExistingSession,
    db: DbSession,
    settings: SettingsDep,
    size: Annotated[Literal["a4", "a5"], Query(description="Paper size")] = "a4",
) -> HTMLResponse:
    """Print-ready HTML (the browser's Print gives a one-page PDF); cached privately only."""
    branding = load_branding(db, session_id)
    qr = _qr(settings, request, session_id).svg_inline(scale=10, border=2, omitsize=True)
    body = render_poster(
        size=size,
        event_name=(branding.event_name if branding else None) or session.name,
        event_date=branding.event_date if branding else None,
        studio_name=branding.studio_name if branding else None,
        qr_svg=qr,
        url=guest_url(settings, request, session_id),
    )
    return HTMLResponse(body, headers={**PAGE_HEADERS, "Cache-Control": "private, no-cache"})


@router.put(
    "/api/v1/sessions/{session_id}/branding",
    response_model=BrandingOut,
    summary="Set a session's guest-page branding (admin)",
    dependencies=[AdminAuth],
    responses=error_responses(400, 401, 403, 404, 422, 503),
)
def put_branding(
    session_id: uuid.UUID, values: BrandingIn, _session: ExistingSession, db: DbSession
) -> BrandingOut:
    """Event name and date, studio name, accent colour, cover photo (a photo of this session)
    and logo (base64 PNG/JPEG/WebP ≤ 256 KB). Replaces what was set before."""
    if values.cover_photo_id is not None:
        found = db.execute(
            text("SELECT 1 FROM photos WHERE id = :p AND session_id = :s"),
            {"p": values.cover_photo_id, "s": session_id},
        ).first()
        if found is None:
            raise UnprocessableInput(
                "cover_photo_id is not a photo of this session.", code="INVALID_COVER_PHOTO"
            )
    return branding_out(session_id, save_branding(db, session_id, values))


@router.get(
    "/api/v1/sessions/{session_id}/branding",
    response_model=BrandingOut,
    summary="A session's guest-page branding (admin)",
    dependencies=[AdminAuth],
    responses=error_responses(401, 403, 422, 503),
)
def get_branding(session_id: uuid.UUID, db: DbSession) -> BrandingOut:
    return branding_out(session_id, load_branding(db, session_id))


@router.get(
    "/api/v1/sessions/{session_id}/logo",
    summary="The studio's logo for a session's guest page",
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}},
        **error_responses(404, 422),
    },
    response_class=Response,
)
def logo(session_id: uuid.UUID, db: DbSession) -> Response:
    row = load_branding(db, session_id)
    if row is None or row.logo is None:
        raise NotFound("This session has no logo.", code="LOGO_NOT_FOUND")
    return Response(
        row.logo,
        media_type=row.logo_content_type or "application/octet-stream",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
