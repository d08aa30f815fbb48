"""The guest page's CSS and JS: read once, versioned by content hash, served gzipped.

URLs carry the hash (`/assets/guest.js?v=1a2b3c4d`), so browsers may cache them for a year and a
new release is fetched at once. Gzip matters on a venue's 3G: the page must arrive in seconds.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
ASSET_NAMES = ("guest.css", "guest.js", "poster.css", "favicon.svg")


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file, its content hash and its gzipped form."""

    name: str
    body: bytes
    gzipped: bytes
    version: str
    content_type: str

    @property
    def url(self) -> str:
        return f"/assets/{self.name}?v={self.version}"


@cache
def load_asset(name: str) -> Asset:
    """An asset of facepass/web/static by name (only those in ASSET_NAMES exist)."""
    if name not in ASSET_NAMES:
        raise KeyError(name)
    body = resources.files("facepass.web").joinpath("static", name).read_bytes()
    suffix = name[name.rfind(".") :]
    return Asset(
        name=name,
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        version=hashlib.sha256(body).hexdigest()[:12],
        content_type=_TYPES[suffix],
    )


def asset_url(name: str) -> str:
    """The versioned URL of an asset, for templates."""
    return load_asset(name).url
