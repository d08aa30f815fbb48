"""The console's page and static files: read once, versioned by content hash, gzipped."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
ASSET_NAMES = ("studio.css", "studio.js")

# The console's own policy: its scripts and styles only, its API only. Frames: the guest-page
# preview and the poster are same-origin documents the console writes into its frames.
STUDIO_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'none'; frame-ancestors 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}


@dataclass(frozen=True, slots=True)
class StudioAsset:
    name: str
    body: bytes
    gzipped: bytes
    version: str
    content_type: str


@cache
def load_studio_asset(name: str) -> StudioAsset:
    """A file of facepass/studio/static by name (only those in ASSET_NAMES exist)."""
    if name not in ASSET_NAMES:
        raise KeyError(name)
    body = resources.files("facepass.studio").joinpath("static", name).read_bytes()
    return StudioAsset(
        name=name,
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        version=hashlib.sha256(body).hexdigest()[:12],
        content_type=_TYPES[name[name.rfind(".") :]],
    )


@cache
def studio_page() -> str:
    """The console's one HTML page, its asset links versioned."""
    page = resources.files("facepass.studio").joinpath("static", "studio.html").read_text()
    for name in ASSET_NAMES:
        page = page.replace(
            f"{{{{{name}}}}}", f"/studio/assets/{name}?v={load_studio_asset(name).version}"
        )
    return page
