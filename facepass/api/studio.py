"""The studio console: its page (`/studio`, static files, no build step) and its admin API.

- `GET /api/v1/studio/sessions`: the studio's Pixora sessions with FacePass's figures (a key
  sees its studio's, the operator every studio's).
- `GET /api/v1/studio/sessions/{id}/share`: the guest URL, and whether it is public (the
  console refuses to print a poster whose QR code would lead guests' phones nowhere).
- `GET /api/v1/studio/sessions/{id}/preview`: the real guest page template with draft branding
  from the query, for the branding editor's phone frame (the console shows it in a sandboxed
  frame; nothing is saved).

Everything else the console does is the admin API itself, with the same bearer (a studio key
or the operator token, held in the tab's sessionStorage only), the same scope checks and the
same audit rows as any other client.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import text

from facepass.api.admin import AdminAuth, StudioAccess
from facepass.api.dependencies import (
    DbSession,
    ExistingSession,
    OwnDbDep,
    PixoraDep,
    SettingsDep,
    SignerDep,
)
from facepass.errors import NotFound, UnprocessableInput, error_responses
from facepass.pixora.listing import studio_sessions
from facepass.pixora.validation import EXISTING_SESSION_ERRORS
from facepass.studio import service
from facepass.studio.assets import STUDIO_HEADERS, load_studio_asset, studio_page
from facepass.studio.preview import render_preview
from facepass.studio.schemas import ShareInfo, StudioSessions
from facepass.web.branding import cover_face_box, load_branding

router = APIRouter(tags=["studio console"])
# The preview is HTML, its errors JSON: said explicitly, or FastAPI would list them as HTML.
_HTML_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    for status, description in (
        (401, "No or a wrong bearer"),
        (403, "Another studio's session, or a key without the scope"),
        (404, "No such session"),
        (422, "Validation error (a cover that is not this session's photo)"),
        (503, "Pixora unavailable"),
    )
}


@router.get("/studio", response_class=HTMLResponse, include_in_schema=False)
def console_page() -> HTMLResponse:
    return HTMLResponse(studio_page(), headers=STUDIO_HEADERS)


@router.get("/studio/assets/{name}", include_in_schema=False)
def console_asset(name: str, request: Request) -> Response:
    try:
        asset = load_studio_asset(name)
    except KeyError:
        raise NotFound("No such file.") from None
    gzipped = "gzip" in request.headers.get("accept-encoding", "")
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(
        asset.gzipped if gzipped else asset.body, media_type=asset.content_type, headers=headers
    )


@router.get(
    "/api/v1/studio/sessions",
    summary="The studio's sessions, with photo, face and people counts (admin)",
    description="A studio key sees its own studio's Pixora sessions; the operator token every "
    "studio's. Newest first. Each with FacePass's figures: photos by status, searchable "
    "faces, people, the indexing state, and whether FacePass is on (Pixora's flag).",
    responses=error_responses(401, 403, 422, 503),
)
def list_studio_sessions(
    access: StudioAccess,
    pixora: PixoraDep,
    own_db: OwnDbDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> StudioSessions:
    studio_id = access.key.studio_id if access.key is not None else None
    sessions, total = studio_sessions(pixora, studio_id, limit=limit, offset=offset)
    with own_db.engine.connect() as conn:
        listed = service.with_figures(conn, sessions)
    return StudioSessions(
        studio_id=studio_id, total=total, limit=limit, offset=offset, sessions=listed
    )


def public_guest_url(base: str | None, request: Request, session_id: uuid.UUID) -> str:
    """FACEPASS_PUBLIC_BASE_URL (what the QR code and poster print), else this request's."""
    return f"{(base or str(request.base_url)).rstrip('/')}/s/{session_id}"


@router.get(
    "/api/v1/studio/sessions/{session_id}/share",
    summary="The guest page's URL and whether guests can reach it (admin)",
    description="The URL the QR code and the poster carry. `public` is false for a loopback, "
    "private or link-local address or a local name: a poster printed with it leads guests' "
    "phones nowhere (set FACEPASS_PUBLIC_BASE_URL).",
    dependencies=[AdminAuth],
    responses={**EXISTING_SESSION_ERRORS, **error_responses(401, 403)},
)
def share_info(session: ExistingSession, request: Request, settings: SettingsDep) -> ShareInfo:
    url = public_guest_url(settings.public_base_url, request, session.id)
    reason = service.why_not_public(url)
    return ShareInfo(session_id=session.id, guest_url=url, public=reason is None, reason=reason)


@router.get(
    "/api/v1/studio/sessions/{session_id}/preview",
    summary="The guest page with draft branding, for the console's preview (admin)",
    response_class=HTMLResponse,
    dependencies=[AdminAuth],
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}, **_HTML_ERRORS},
)
def preview(
    session: ExistingSession,
    db: DbSession,
    signer: SignerDep,
    lang: Annotated[str, Query(pattern="^(ru|en)$")] = "ru",
    event_name: Annotated[str | None, Query(max_length=120)] = None,
    event_date: date | None = None,
    studio_name: Annotated[str | None, Query(max_length=120)] = None,
    accent_color: Annotated[str | None, Query(pattern="^#[0-9a-fA-F]{6}$")] = None,
    cover_photo_id: uuid.UUID | None = None,
) -> HTMLResponse:
    """Nothing is saved; the saved logo is shown (a new one shows once saved)."""
    if cover_photo_id is not None:
        found = db.execute(
            text("SELECT 1 FROM photos WHERE id = :p AND session_id = :s"),
            {"p": cover_photo_id, "s": session.id},
        ).first()
        if found is None:
            raise UnprocessableInput(
                "cover_photo_id is not a photo of this session.", code="INVALID_COVER_PHOTO"
            )
    saved = load_branding(db, session.id)
    body = render_preview(
        session,
        signer,
        lang="en" if lang == "en" else "ru",
        event_name=event_name,
        event_date=event_date,
        studio_name=studio_name,
        accent_color=accent_color.lower() if accent_color else None,
        cover_photo_id=cover_photo_id,
        cover_box=cover_face_box(db, session.id, cover_photo_id) if cover_photo_id else None,
        has_logo=bool(saved and saved.logo),
    )
    return HTMLResponse(body, headers=STUDIO_HEADERS)
