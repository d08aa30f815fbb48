"""Rendering of the guest page and its error pages (Jinja2, autoescaped)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from facepass.web.assets import asset_url
from facepass.web.i18n import MESSAGES, Language

# Security headers of every page: nothing but our own origin, and no Referer leaving the page
# (a signed photo URL must not travel to another site).
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
        "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("facepass.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset_url"] = asset_url
    return env


def script_json(value: Any) -> Markup:
    """JSON safe inside a <script> element: no '<', '>' or '&' can end it early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return Markup(text)  # noqa: S704 - escaped above for the script context


def render_guest_page(
    lang: Language, *, session_id: str, session_name: str, page_config: dict[str, Any]
) -> str:
    """The guest page of one validated session."""
    messages = MESSAGES[lang]
    config = {**page_config, "lang": lang, "t": messages}
    return (
        _environment()
        .get_template("guest.html")
        .render(
            lang=lang,
            t=messages,
            session_name=session_name,
            download_url=f"/api/v1/sessions/{session_id}/download",
            config_json=script_json(config),
        )
    )


def render_error_page(lang: Language, status: int) -> str:
    """A friendly page for an unknown (404) or disabled (403) session, or an outage (503)."""
    messages = MESSAGES[lang]
    key = status if status in (403, 404) else 503
    return (
        _environment()
        .get_template("error.html")
        .render(
            lang=lang,
            t=messages,
            status=status,
            title=messages[f"error_{key}_title"],
            message=messages[f"error_{key}"],
        )
    )
