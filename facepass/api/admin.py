"""The ONE dependency of every admin route: who is asking, may they touch this session, audit.

`Authorization: Bearer ...` carries either FACEPASS_ADMIN_TOKEN (an operator: every session,
every admin route) or a studio key (`fpk_...`: only routes of a session whose Pixora
`studio_id` is the key's, and only within the key's scope). A key on another studio's session,
on a session that does not exist, or on a route without a session gets the same 403
FORBIDDEN_STUDIO, so a key learns nothing about sessions it does not own.

The scope a route needs follows its method: GET reads, POST/PUT/PATCH upload, DELETE deletes.
After the handler succeeds, the dependency writes the action's audit row: what the handler
declared with `access.audit(...)`, or, for any non-GET route that declared nothing, a row named
after the route. Failed actions leave no row.

Use it as `dependencies=[AdminAuth]` on a router, or as a parameter `access: AdminAccess`.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from facepass.access import audit
from facepass.access.keys import StudioKey, find_key, looks_like_key
from facepass.access.models import DELETE, READ, UPLOAD
from facepass.api.dependencies import OwnDbDep, PixoraDep, SettingsDep, ValidationCacheDep
from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.errors import Forbidden, Unauthorized
from facepass.pixora.cache import ValidationCache
from facepass.pixora.database import PixoraDatabase
from facepass.pixora.validation import validate_session

logger = logging.getLogger(__name__)

ADMIN_SCHEME = "FacePassAdmin"  # the OpenAPI security scheme of every admin route
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name=ADMIN_SCHEME,
    description="FACEPASS_ADMIN_TOKEN (operators) or a studio key (fpk_...)",
)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SCOPE_OF_METHOD = {"POST": UPLOAD, "PUT": UPLOAD, "PATCH": UPLOAD, "DELETE": DELETE}


class ForbiddenStudio(Forbidden):
    code = "FORBIDDEN_STUDIO"

    def __init__(self) -> None:
        super().__init__("This key does not give access to this session.")


class ForbiddenScope(Forbidden):
    code = "FORBIDDEN_SCOPE"

    def __init__(self, needed: str) -> None:
        super().__init__(f"This key's scope does not allow this; it needs '{needed}'.")


@dataclass
class AdminContext:
    """Who is acting on which session; handlers add the counts of their audit row."""

    actor: str
    key: StudioKey | None
    session_id: uuid.UUID | None
    action: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def is_operator(self) -> bool:
        return self.key is None

    def audit(self, action: str, **counts: Any) -> None:
        """Name this request's audit row and its counts (written once the handler succeeded)."""
        self.action = action
        self.counts.update(counts)


def _path_session_id(request: Request) -> uuid.UUID | None:
    raw = request.path_params.get("session_id")
    if raw is None:
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def _authorize_key(
    request: Request, pixora: PixoraDatabase, cache: ValidationCache, key: StudioKey
) -> uuid.UUID:
    needed = READ if request.method in _SAFE_METHODS else _SCOPE_OF_METHOD.get(request.method)
    session_id = _path_session_id(request)
    if session_id is None or needed is None:
        raise ForbiddenStudio()
    session = validate_session(pixora, cache, session_id, count_usage=False).session
    if session is None or session.studio_id != key.studio_id:
        raise ForbiddenStudio()
    if not key.allows(needed):
        raise ForbiddenScope(needed)
    return session_id


def _authenticate(
    request: Request,
    token: str,
    settings: Settings,
    own_db: OwnDatabase,
    pixora: PixoraDatabase,
    cache: ValidationCache,
) -> AdminContext:
    expected = settings.admin_token
    # Constant-time comparison: response timing says nothing about the token.
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return AdminContext(audit.OPERATOR, None, _path_session_id(request))
    if looks_like_key(token):
        with own_db.sessions() as db:
            key = find_key(db, settings, token)
        if key is not None:
            session_id = _authorize_key(request, pixora, cache, key)
            return AdminContext(audit.key_actor(key.id), key, session_id)
    raise Unauthorized("The bearer token is not valid.", headers=_CHALLENGE)


def _route_name(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "name", None) or request.url.path)


def require_admin_access(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    settings: SettingsDep,
    own_db: OwnDbDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
) -> Iterator[AdminContext]:
    """Dependency: authenticate, authorize for the path's session, then audit the action."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.", headers=_CHALLENGE)
    context = _authenticate(request, credentials.credentials, settings, own_db, pixora, cache)
    yield context
    if context.action is None and request.method in _SAFE_METHODS:
        return
    try:
        with own_db.session() as db:
            audit.record(
                db,
                actor=context.actor,
                action=context.action or _route_name(request),
                session_id=context.session_id,
                counts=context.counts,
            )
    except Exception as exc:  # the action is done; a lost audit row must at least be loud
        logger.error("audit row not written", extra={"error_type": type(exc).__name__})


AdminAccess = Annotated[AdminContext, Depends(require_admin_access)]
"""A handler parameter: `access: AdminAccess` (then `access.audit("upload", photos=3)`)."""

AdminAuth = Depends(require_admin_access)
"""Use as `dependencies=[AdminAuth]` on a router or route."""


def _sees_scores(
    request: Request,
    settings: Settings,
    own_db: OwnDatabase,
    pixora: PixoraDatabase,
    cache: ValidationCache,
) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    try:
        _authenticate(request, token.strip(), settings, own_db, pixora, cache)
    except (Unauthorized, Forbidden):
        return False  # a guest's search stays a guest's search, whatever it sends
    return True


async def scores_visible(
    request: Request,
    settings: SettingsDep,
    own_db: OwnDbDep,
    pixora: PixoraDep,
    cache: ValidationCacheDep,
) -> bool:
    """True when the request carries an admin token or a studio key of the session (allowed
    the route's method): only then do search answers show similarities and the threshold.
    Never refuses: without such a bearer the answer is a guest's."""
    return await run_in_threadpool(_sees_scores, request, settings, own_db, pixora, cache)


ScoresVisible = Annotated[bool, Depends(scores_visible)]
"""A handler parameter of search answers: whether scores may be shown (admins only)."""


def require_studio_access(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    settings: SettingsDep,
    own_db: OwnDbDep,
) -> AdminContext:
    """Dependency of the studio-wide admin routes (no session in the path, reads only): the
    operator, or a studio key with `read` scope; `context.key.studio_id` bounds what it sees."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.", headers=_CHALLENGE)
    token = credentials.credentials
    expected = settings.admin_token
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return AdminContext(audit.OPERATOR, None, None)
    if looks_like_key(token):
        with own_db.sessions() as db:
            key = find_key(db, settings, token)
        if key is not None:
            if request.method not in _SAFE_METHODS:
                raise ForbiddenStudio()
            if not key.allows(READ):
                raise ForbiddenScope(READ)
            return AdminContext(audit.key_actor(key.id), key, None)
    raise Unauthorized("The bearer token is not valid.", headers=_CHALLENGE)


StudioAccess = Annotated[AdminContext, Depends(require_studio_access)]
"""A handler parameter of a studio-wide read: the operator or a studio's key."""
