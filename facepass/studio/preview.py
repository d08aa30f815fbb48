"""The branding editor's preview: the guest page's own template, with draft branding."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from facepass.guest.limits import DEVICE_HEADER
from facepass.guest.signing import MediaSigner
from facepass.pixora.schemas import SessionInfo
from facepass.web.branding import readable_on, text_accent
from facepass.web.i18n import CONSENT_VERSION, Language
from facepass.web.pages import ConsentView, EventView, render_guest_page


def render_preview(
    session: SessionInfo,
    signer: MediaSigner,
    *,
    lang: Language,
    event_name: str | None,
    event_date: date | None,
    studio_name: str | None,
    accent_color: str | None,
    cover_photo_id: uuid.UUID | None,
    cover_box: tuple[float, float, float, float] | None,
    has_logo: bool,
) -> str:
    """The guest page as guests would see it with these choices (its buttons do nothing
    useful: the preview carries no device token)."""
    base = f"/api/v1/sessions/{session.id}"
    event = EventView(
        name=(event_name or "").strip() or session.name,
        date=event_date,
        studio=(studio_name or "").strip() or None,
        logo_url=f"{base}/logo" if has_logo else None,
        # The guest page's own cover: a crop around the cover photo's faces.
        cover_url=signer.crop_path(cover_photo_id, "cover", cover_box, signer.expiry())
        if cover_photo_id and cover_box
        else None,
    )
    config: dict[str, Any] = {
        "session_id": str(session.id),
        "event_name": event.name,
        "event_date": event.date.isoformat() if event.date else None,
        "search_url": f"{base}/search",
        "results_url": f"{base}/results",
        "recheck_url": f"{base}/recheck",
        "opt_out_url": f"{base}/opt-out",
        "download_url": f"{base}/download",
        "consent_version": CONSENT_VERSION,
        "device_token": "",
        "device_header": DEVICE_HEADER,
        "max_selfies": 3,
        "max_side": 1024,
        "page_size": 60,
        "share_batch": 10,
        "upload_timeout_ms": 60_000,
        "preview": True,
    }
    if accent_color:
        config["accent"] = accent_color
        config["accent_fg"] = readable_on(accent_color)
        config["accent_text"] = text_accent(accent_color, "#ffffff", "#16181d")
        config["accent_text_dark"] = text_accent(accent_color, "#121418", "#eef0f3")
    return render_guest_page(
        lang,
        event=event,
        consent=ConsentView(operator=None, policy_url=None, link_minutes=60, results_days=30),
        page_config=config,
    )
