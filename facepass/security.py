"""Admin authentication: `Authorization: Bearer <FACEPASS_ADMIN_TOKEN>` on admin endpoints."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from facepass.config import Settings
from facepass.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="FACEPASS_ADMIN_TOKEN")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Dependency: refuse with 401 UNAUTHORIZED unless the bearer token is the admin token."""
    settings: Settings = request.app.state.settings
    expected = settings.admin_token
    if not expected:
        # No token configured: admin endpoints stay closed rather than open to everyone.
        raise Unauthorized(
            "Admin endpoints are disabled: FACEPASS_ADMIN_TOKEN is not set.", headers=_CHALLENGE
        )
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.", headers=_CHALLENGE)
    # Constant-time comparison: response timing says nothing about the token.
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise Unauthorized("The bearer token is not valid.", headers=_CHALLENGE)


AdminAuth = Depends(require_admin)
"""Use as `dependencies=[AdminAuth]` on a route or router."""
