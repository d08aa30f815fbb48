"""Whose X-Forwarded-For to believe: nobody's, unless FACEPASS_FORWARDED_ALLOW_IPS names them.

uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so any local process could choose
the client address that rate limits count (or spend someone else's quota). FacePass turns proxy
headers off unless the setting lists the reverse proxies in front of it.
"""

from __future__ import annotations

from typing import Any

from facepass.config import Settings


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy_headers / forwarded_allow_ips for these settings."""
    trusted = (settings.forwarded_allow_ips or "").strip()
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}
