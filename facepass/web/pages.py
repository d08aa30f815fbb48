"""Rendering of the guest page and its error pages (Jinja2, autoescaped)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from facepass.web.assets import asset_url, load_asset
from facepass.web.i18n import MESSAGES, Language, days_text

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


_MONTHS: dict[str, tuple[str, ...]] = {
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def format_date(value: date, lang: Language) -> str:
    """A date as people write it: 28 ноября 2026 / 28 November 2026."""
    return f"{value.day} {_MONTHS[lang][value.month - 1]} {value.year}"


@dataclass(frozen=True, slots=True)
class EventView:
    """What the page shows of the event: its name and date, the studio, its images."""

    name: str
    date: date | None = None
    studio: str | None = None
    logo_url: str | None = None
    cover_url: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentView:
    """Who runs the service, for the consent screen (settings and the studio's branding)."""

    operator: str | None
    policy_url: str | None
    link_minutes: int
    results_days: int


@cache
def _script_words() -> frozenset[str]:
    """The messages the page's script reads by name (`t.key`): only those travel in the page."""
    script = load_asset("guest.js").body.decode()
    return frozenset(re.findall(r"\bt\.([A-Za-z_]\w*)", script))


def page_words(messages: dict[str, str]) -> dict[str, str]:
    """The page's share of the messages: what the script names, error codes (looked up by the
    code a response carries), plural forms and angle guides (by a computed key). Words only
    the server uses (the e-mail, the error pages, the template's own) stay out."""
    named = _script_words()
    return {
        key: text
        for key, text in messages.items()
        if key in named or key.isupper() or key.startswith(("found_", "angle_"))
    }


def render_guest_page(
    lang: Language,
    *,
    event: EventView,
    consent: ConsentView,
    page_config: dict[str, Any],
    public_url: str | None = None,
    og_image: str | None = None,
) -> str:
    """The guest page of one validated session."""
    messages = MESSAGES[lang]
    days = days_text(lang, consent.results_days)
    config = {**page_config, "lang": lang, "t": page_words(messages), "results_days_text": days}
    date_text = format_date(event.date, lang) if event.date else None
    return (
        _environment()
        .get_template("guest.html")
        .render(
            lang=lang,
            t=messages,
            event={
                "name": event.name,
                "date": date_text,
                "date_iso": event.date.isoformat() if event.date else None,
                "studio": event.studio,
                "logo_url": event.logo_url,
                "cover_url": event.cover_url,
            },
            consent={
                "links": messages["consent_links"].format(days=days),
                "operator": messages["consent_operator"].format(operator=consent.operator)
                if consent.operator
                else None,
                "studio": messages["consent_studio"].format(studio=event.studio)
                if event.studio
                else None,
                "policy_url": consent.policy_url,
            },
            email=bool(page_config.get("email_url")),
            og_url=public_url,
            og_image=og_image,
            config_json=script_json(config),
        )
    )


def render_poster(
    *,
    size: str,
    event_name: str,
    event_date: date | None,
    studio_name: str | None,
    qr_svg: str,
    url: str,
) -> str:
    """The printable poster of a session (the QR code's SVG is segno's own markup)."""
    return (
        _environment()
        .get_template("poster.html")
        .render(
            size=size,
            event_name=event_name,
            event_date=format_date(event_date, "ru") if event_date else None,
            studio_name=studio_name,
            qr_svg=Markup(qr_svg),  # noqa: S704 - generated by segno from our own URL
            url=url,
        )
    )


def render_error_page(
    lang: Language, status: int, event_name: str | None = None, studio: str | None = None
) -> str:
    """A friendly page for an unknown (404) or disabled (403) event, or an outage (503).

    A disabled event still names itself and who to ask (its studio), so the guest is not left
    wondering whether the link is right."""
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
            event_name=event_name,
            contact=messages["error_contact_studio"].format(studio=studio)
            if studio
            else messages["error_contact"],
        )
    )
