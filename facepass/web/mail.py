"""'Send me my photos': one e-mail carrying a guest's results link, through the operator's SMTP.

The address is used for that one message and then forgotten: it is not stored, not logged, and
not kept in memory past the request. The per-address rate limit keys on a keyed hash of it
(HMAC under a key derived from the signing key), which expires with the limit's window.

The link opens the guest page with the results token in its fragment (`#results=`): a
fragment never reaches a server's logs, and the page reads it, shows the gallery and keeps it
in that browser like a search of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from facepass.config import ConfigError, Settings
from facepass.guest.tokens import derive_key
from facepass.web.i18n import MESSAGES, Language

MAX_ADDRESS_CHARS = 254  # RFC 5321's limit on a forward path
# One @, something before and a dotted domain after; no spaces or line breaks (header safety).
_ADDRESS = re.compile(r"^[^@\s,;<>\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}$")


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where the mail goes: host, port, login, and how the connection is encrypted."""

    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool  # smtps:// (port 465); smtp:// upgrades with STARTTLS when offered


def parse_smtp_url(url: str) -> SmtpServer:
    """smtp://user:password@host:587 or smtps://host:465 (user and password URL-encoded)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("FACEPASS_SMTP_URL must be smtp://host[:port] or smtps://host[:port]")
    implicit = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
    )


def valid_address(text: str) -> bool:
    """Whether `text` reads as one plain e-mail address (no name, no list, no header tricks)."""
    return len(text) <= MAX_ADDRESS_CHARS and _ADDRESS.match(text) is not None


def address_key(secret: str, address: str) -> str:
    """The rate limiter's key for an address: a keyed hash, never the address itself."""
    key = derive_key(secret, "email-address-limit")
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()


def results_link(base_url: str, session_id: uuid.UUID, results_token: str) -> str:
    """The guest page that opens this results token's gallery (token in the fragment)."""
    return f"{base_url.rstrip('/')}/s/{session_id}#results={results_token}"


def compose(
    lang: Language, *, sender: str, to: str, event_name: str, link: str, days: str
) -> EmailMessage:
    """The message: subject and a short text in the guest's language, the link on its own line."""
    words = MESSAGES[lang]
    message = EmailMessage()
    name, email = parseaddr(sender)
    local, _, domain = email.partition("@")
    message["From"] = Address(display_name=name, username=local, domain=domain)
    to_local, _, to_domain = to.partition("@")
    message["To"] = Address(username=to_local, domain=to_domain)
    message["Subject"] = words["email_subject"].format(event=event_name)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=domain or None)
    message["Auto-Submitted"] = "auto-generated"
    body = words["email_body"].format(event=event_name, link=link, days=days)
    message.set_content(body)
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    """Deliver one message; raises OSError / smtplib.SMTPException when it cannot be sent."""
    if not settings.smtp_url:
        raise ConfigError("FACEPASS_SMTP_URL is not set")
    server = parse_smtp_url(settings.smtp_url)
    timeout = settings.smtp_timeout_s
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.implicit_tls:
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=timeout)
    with client:
        client.ehlo()
        if not server.implicit_tls and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if server.username:
            client.login(server.username, server.password or "")
        client.send_message(message)
