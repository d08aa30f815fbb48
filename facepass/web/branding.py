"""A session's look on the guest page: event name and date, studio, colour, logo, cover photo.

Set by the studio (`PUT /api/v1/sessions/{id}/branding`), stored in FacePass's database
(`session_branding`, migration 0006); every field is optional and the page falls back to
Pixora's session name and FacePass's own colours.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import uuid
from datetime import date, datetime

from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Date, DateTime, LargeBinary, Text, Uuid, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from facepass.db import Base
from facepass.errors import UnprocessableInput
from facepass.http.text import DisplayName

MAX_LOGO_BYTES = 256 * 1024
_LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")  # the whole string: fullmatch, never match


class SessionBranding(Base):
    """The studio's choices for one session's guest page."""

    __tablename__ = "session_branding"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_name: Mapped[str | None] = mapped_column(Text)
    event_date: Mapped[date | None] = mapped_column(Date)
    studio_name: Mapped[str | None] = mapped_column(Text)
    accent_color: Mapped[str | None] = mapped_column(Text)
    cover_photo_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_content_type: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BrandingIn(BaseModel):
    """What a studio sets (PUT replaces every field; leave one out to clear it)."""

    event_name: DisplayName | None = Field(None, description="Shown instead of Pixora's")
    event_date: date | None = Field(None, description="The event's date, shown under its name")
    studio_name: DisplayName | None = Field(None, description="Who took the photos")
    accent_color: str | None = Field(None, description="#rrggbb; buttons and links")
    cover_photo_id: uuid.UUID | None = Field(None, description="A photo of this session")
    logo_base64: str | None = Field(
        None, max_length=MAX_LOGO_BYTES * 4 // 3 + 8, description="PNG, JPEG or WebP, ≤ 256 KB"
    )

    @field_validator("accent_color")
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        if value is not None and not _COLOR.fullmatch(value):
            raise ValueError("accent_color must look like #1a73e8")
        return value.lower() if value else None


class BrandingOut(BaseModel):
    """A session's branding as stored."""

    session_id: uuid.UUID
    event_name: str | None
    event_date: date | None
    studio_name: str | None
    accent_color: str | None
    cover_photo_id: uuid.UUID | None
    logo_url: str | None
    updated_at: datetime | None


def decode_logo(data: str) -> tuple[bytes, str]:
    """The logo's bytes and content type; 422 for anything but a small PNG, JPEG or WebP."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise UnprocessableInput("logo_base64 is not base64.", code="INVALID_LOGO") from None
    if len(raw) > MAX_LOGO_BYTES:
        raise UnprocessableInput("The logo may be at most 256 KB.", code="INVALID_LOGO")
    try:
        with Image.open(io.BytesIO(raw)) as image:
            kind = image.format
            image.verify()
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise UnprocessableInput("The logo is not a readable image.", code="INVALID_LOGO") from None
    if kind not in _LOGO_TYPES:
        raise UnprocessableInput("The logo must be PNG, JPEG or WebP.", code="INVALID_LOGO")
    return raw, _LOGO_TYPES[kind]


def load_branding(db: Session, session_id: uuid.UUID) -> SessionBranding | None:
    return db.get(SessionBranding, session_id)


def save_branding(db: Session, session_id: uuid.UUID, values: BrandingIn) -> SessionBranding:
    """Replace the session's branding."""
    logo, logo_type = decode_logo(values.logo_base64) if values.logo_base64 else (None, None)
    row = {
        "session_id": session_id,
        **values.model_dump(exclude={"logo_base64"}),
        "logo": logo,
        "logo_content_type": logo_type,
        "updated_at": func.now(),
    }
    statement = insert(SessionBranding).values(row)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[SessionBranding.session_id],
            set_={k: statement.excluded[k] for k in row if k != "session_id"},
        )
    )
    db.commit()
    saved = db.execute(
        select(SessionBranding)
        .where(SessionBranding.session_id == session_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    return saved


_COVER_FACES = text(
    "SELECT p.width, p.height, min(f.box_left) AS fl, min(f.box_top) AS ft, "
    "max(f.box_right) AS fr, max(f.box_bottom) AS fb "
    "FROM photos p LEFT JOIN faces f ON f.photo_id = p.id AND f.indexable "
    "WHERE p.id = :p AND p.session_id = :s GROUP BY p.width, p.height"
)


def cover_face_box(
    db: Session, session_id: uuid.UUID, photo_id: uuid.UUID
) -> tuple[float, float, float, float] | None:
    """What the cover's crop centres on: the box around every face of the cover photo, or its
    upper middle when it shows nobody; None if the photo is not (or no longer) there."""
    row = db.execute(_COVER_FACES, {"p": photo_id, "s": session_id}).first()
    if row is None or not row.width or not row.height:
        return None
    if row.fl is None:  # no faces: people's heads are usually in the upper half
        return (row.width * 0.4, row.height * 0.25, row.width * 0.6, row.height * 0.45)
    return (row.fl, row.ft, row.fr, row.fb)


def branding_out(session_id: uuid.UUID, row: SessionBranding | None) -> BrandingOut:
    return BrandingOut(
        session_id=session_id,
        event_name=row.event_name if row else None,
        event_date=row.event_date if row else None,
        studio_name=row.studio_name if row else None,
        accent_color=row.accent_color if row else None,
        cover_photo_id=row.cover_photo_id if row else None,
        logo_url=f"/api/v1/sessions/{session_id}/logo" if row and row.logo else None,
        updated_at=row.updated_at if row else None,
    )


def _luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable_on(color: str) -> str:
    """Black or white, whichever reads better on `color`."""
    return "#000000" if contrast(color, "#000000") > contrast(color, "#ffffff") else "#ffffff"


def text_accent(color: str, background: str, fallback: str) -> str:
    """The accent as a text colour on `background` if it reads (≥ 4.5:1), else `fallback`."""
    return color if contrast(color, background) >= 4.5 else fallback
