"""Admin authentication, kept importable from here: the one dependency lives in facepass.access.

`AdminAuth` (router/route `dependencies=[...]`) and `AdminAccess` (a handler parameter) accept
FACEPASS_ADMIN_TOKEN (operators) and studio keys limited to their studio's sessions.
"""

from __future__ import annotations

from facepass.access.dependencies import AdminAccess, AdminAuth, AdminContext, require_admin_access

__all__ = ["AdminAccess", "AdminAuth", "AdminContext", "require_admin_access"]
