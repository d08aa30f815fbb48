"""Session validation: the one function every domain uses.

`validate_session` answers "is this session real, and is FacePass on for it?" from the cache or
from Pixora (one indexed read). Routes depend on `ActiveSession` (guest-facing: 404 / 403 / 503)
or `ExistingSession` (admin: 404 / 503), the FastAPI dependencies in facepass.api.dependencies.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Text, any_, bindparam, cast, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import Uuid

from facepass.errors import error_responses
from facepass.pixora.errors import (
    FACEPASS_DISABLED,
    SESSION_NOT_FOUND,
    FacePassDisabled,
    SessionNotFound,
    pixora_errors,
)
from facepass.pixora.models import PhotoSession
from facepass.pixora.schemas import SessionInfo
from facepass.usage.recorder import record_usage

if TYPE_CHECKING:
    from facepass.pixora.cache import ValidationCache
    from facepass.pixora.database import PixoraDatabase

logger = logging.getLogger(__name__)

ValidationResult = Literal["valid", "not_found", "disabled"]

_table = PhotoSession.__table__
_COLUMNS = (
    _table.c.id,
    _table.c.name,
    _table.c.studio_id,
    _table.c.facepass_enabled,
    _table.c.photographer_id,
    cast(_table.c.status, Text).label("status"),  # an unknown enum value is just text
    _table.c.created_at,
    _table.c.updated_at,
)
_SELECT_ONE = select(*_COLUMNS).where(_table.c.id == bindparam("id", type_=Uuid()))
_SELECT_MANY = select(*_COLUMNS).where(_table.c.id == any_(bindparam("ids", type_=ARRAY(Uuid()))))

# OpenAPI `responses=` for routes using the dependencies below (422: malformed session id).
ACTIVE_SESSION_ERRORS = error_responses(403, 404, 422, 503)
EXISTING_SESSION_ERRORS = error_responses(404, 422, 503)


@dataclass(frozen=True, slots=True)
class Validation:
    """The answer for one session id, and whether the cache gave it."""

    session_id: uuid.UUID
    session: SessionInfo | None
    cache_hit: bool

    @property
    def valid(self) -> bool:
        return self.session is not None and self.session.facepass_enabled

    @property
    def result(self) -> ValidationResult:
        if self.session is None:
            return "not_found"
        return "valid" if self.session.facepass_enabled else "disabled"

    @property
    def error(self) -> str | None:
        """The brief's error sentence, or None when valid."""
        return {"valid": None, "not_found": SESSION_NOT_FOUND, "disabled": FACEPASS_DISABLED}[
            self.result
        ]

    def as_brief(self) -> dict[str, Any]:
        """The brief's JSON answer: {"valid", "session", "error"}."""
        return {
            "valid": self.valid,
            "session": None if self.session is None else self.session.model_dump(mode="json"),
            "error": self.error,
        }


def _session_from_row(row: Any) -> SessionInfo:
    return SessionInfo.model_validate(row._mapping)


def _read_sessions(
    pixora: PixoraDatabase, session_ids: list[uuid.UUID]
) -> dict[uuid.UUID, SessionInfo]:
    """Read sessions from Pixora in one statement (read-only, time-bounded)."""
    with pixora_errors():
        for attempt in range(2):
            try:
                with pixora.engine.connect() as conn:
                    if len(session_ids) == 1:
                        rows = conn.execute(_SELECT_ONE, {"id": session_ids[0]}).all()
                    else:
                        rows = conn.execute(_SELECT_MANY, {"ids": session_ids}).all()
                break
            except DBAPIError as exc:
                # The host died under a pooled connection: the pool is invalidated, and one
                # retry connects afresh (to the next host of a multi-host URL).
                if attempt or not exc.connection_invalidated:
                    raise
    sessions = (_session_from_row(row) for row in rows)
    return {session.id: session for session in sessions}


def validate_sessions(
    pixora: PixoraDatabase,
    cache: ValidationCache,
    session_ids: Iterable[uuid.UUID],
    *,
    count_usage: bool = True,
) -> dict[uuid.UUID, Validation]:
    """Validate many ids: cache first, then one Pixora read for the rest; order kept, no repeats.

    `count_usage=False` for FacePass's own checks (e.g. serving each photo of a gallery), which
    are not validations anyone asked for and would swamp the analytics and the logs.
    """
    wanted = list(dict.fromkeys(session_ids))
    cached = cache.get_many(wanted)
    missing = [s for s in wanted if s not in cached]
    fresh: dict[uuid.UUID, SessionInfo | None] = {}
    if missing:
        read = _read_sessions(pixora, missing)
        fresh = {s: read.get(s) for s in missing}
        cache.put_many(fresh)
    answers: dict[uuid.UUID, Validation] = {}
    for session_id in wanted:
        hit = cached.get(session_id)
        session = hit.session if hit is not None else fresh[session_id]
        answers[session_id] = Validation(session_id, session, cache_hit=hit is not None)
        if session is not None and count_usage:
            record_usage(session_id, "validations")
    return answers


def validate_session(
    pixora: PixoraDatabase,
    cache: ValidationCache,
    session_id: uuid.UUID,
    *,
    count_usage: bool = True,
) -> Validation:
    """Validate one session id (cached); raises PixoraUnavailable when Pixora cannot answer."""
    validation = validate_sessions(pixora, cache, [session_id], count_usage=count_usage)[session_id]
    logger.log(
        logging.INFO if count_usage else logging.DEBUG,
        "session validated",
        extra={
            "session_id": str(session_id),
            "result": validation.result,
            "cache_hit": validation.cache_hit,
        },
    )
    return validation


def existing_session(
    pixora: PixoraDatabase, cache: ValidationCache, session_id: uuid.UUID
) -> SessionInfo:
    """The session, or 404 SESSION_NOT_FOUND (503 when Pixora is down)."""
    validation = validate_session(pixora, cache, session_id)
    if validation.session is None:
        raise SessionNotFound()
    return validation.session


def active_session(
    pixora: PixoraDatabase, cache: ValidationCache, session_id: uuid.UUID
) -> SessionInfo:
    """A session with FacePass on, or 404 SESSION_NOT_FOUND / 403 FACEPASS_DISABLED."""
    session = existing_session(pixora, cache, session_id)
    if not session.facepass_enabled:
        raise FacePassDisabled()
    return session
