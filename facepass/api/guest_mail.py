"""`POST /api/v1/sessions/{id}/results/email`: "Send me my photos", the results link by e-mail.

The message itself is composed and sent by facepass.web.mail.

Offered only where the operator configured outgoing mail (FACEPASS_SMTP_URL); 404 EMAIL_OFF
otherwise. Limited per browser (the page's device token, else the address it comes from) and
per recipient (a keyed hash of the address), so the form cannot be used to flood a mailbox.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from facepass.api.dependencies import (
    OwnDbDep,
    PixoraDep,
    RateLimiterDep,
    SettingsDep,
    TokensDep,
    ValidationCacheDep,
)
from facepass.db import OwnDatabase
from facepass.errors import (
    Forbidden,
    NotFound,
    ServiceUnavailable,
    UnprocessableInput,
    error_responses,
)
from facepass.guest.limits import DEVICE_HEADER, check_rate_limit, client_address
from facepass.pixora.validation import active_session
from facepass.web import mail
from facepass.web.branding import load_branding
from facepass.web.i18n import days_text

logger = logging.getLogger(__name__)
router = APIRouter(tags=["guest page"])


def _event_name(own_db: OwnDatabase, session_id: uuid.UUID) -> str | None:
    """The studio's name for the event, if it set one (the mail falls back to Pixora's)."""
    with own_db.sessions() as db:
        branding = load_branding(db, session_id)
    return branding.event_name if branding else None


class EmailRequest(BaseModel):
    """Where to send the link to an earlier search's photos."""

    results_token: str = Field(min_length=1, max_length=20_000, description="of a search")
    email: str = Field(min_length=3, max_length=mail.MAX_ADDRESS_CHARS, description="used once")
    lang: Literal["ru", "en"] = Field("ru", description="the e-mail's language")


class EmailSent(BaseModel):
    """The message was handed to the operator's mail server."""

    sent: bool = True


@router.post(
    "/api/v1/sessions/{session_id}/results/email",
    response_model=EmailSent,
    status_code=202,
    summary="Send the link to a search's photos to an e-mail address (used once, not stored)",
    responses=error_responses(400, 403, 404, 422, 429, 503),
)
async def email_results(
    session_id: uuid.UUID,
    body: EmailRequest,
    request: Request,
    settings: SettingsDep,
    own_db: OwnDbDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
    limiter: RateLimiterDep,
    tokens: TokensDep,
) -> EmailSent:
    """202 once the mail server took the message. 404 EMAIL_OFF without FACEPASS_SMTP_URL;
    422 INVALID_EMAIL; 403 INVALID_TOKEN / TOKEN_EXPIRED / FACEPASS_DISABLED; 429 with
    Retry-After per browser or per address; 503 EMAIL_FAILED when the mail server refuses."""
    if not settings.smtp_url:
        raise NotFound("E-mail is not offered here.", code="EMAIL_OFF")
    address = body.email.strip()
    if not mail.valid_address(address):
        raise UnprocessableInput("That is not an e-mail address.", code="INVALID_EMAIL")
    claim = tokens.read_results(body.results_token)
    if claim.session_id != session_id:
        raise Forbidden("These results belong to another session.", code="INVALID_TOKEN")
    device = tokens.device_id(request.headers.get(DEVICE_HEADER))
    browser = f"device:{device}" if device else client_address(request)
    await check_rate_limit(
        limiter, "email-browser", browser, settings.email_device_rate_limit, what="e-mails"
    )
    assert settings.media_signing_key is not None  # the app refuses to start without one
    await check_rate_limit(
        limiter,
        "email-address",
        mail.address_key(settings.media_signing_key, address),
        settings.email_address_rate_limit,
        what="e-mails to this address",
    )
    session = await run_in_threadpool(active_session, pixora, cache, session_id)
    event_name = await run_in_threadpool(_event_name, own_db, session_id) or session.name
    base = settings.public_base_url or str(request.base_url)
    message = mail.compose(
        body.lang,
        sender=settings.smtp_from,
        to=address,
        event_name=event_name,
        link=mail.results_link(base, session_id, body.results_token),
        days=days_text(body.lang, max(1, settings.results_token_ttl_s // 86400)),
    )
    try:
        await run_in_threadpool(mail.send, settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        # The reason, never the address: it is not to be kept anywhere, logs included.
        logger.warning("results e-mail not sent: %s", type(exc).__name__)
        raise ServiceUnavailable(
            "The e-mail could not be sent; try again later.", code="EMAIL_FAILED"
        ) from None
    return EmailSent()
