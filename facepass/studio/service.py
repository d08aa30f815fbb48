"""The studio console's reads: a studio's sessions with FacePass's figures, and share checks."""

from __future__ import annotations

import ipaddress
import uuid
from urllib.parse import urlsplit

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Uuid

from facepass.pixora.schemas import SessionInfo
from facepass.studio.schemas import IndexingState, PhotoCounts, StudioSession

_IDS = bindparam("ids", type_=ARRAY(Uuid()))
_PHOTOS = text(
    "SELECT session_id, status, count(*) AS n FROM photos WHERE session_id = ANY(:ids)"
    " GROUP BY session_id, status"
).bindparams(_IDS)
_FACES = text(
    """
    SELECT f.session_id, count(*) AS n FROM faces f
    LEFT JOIN session_indexes si ON si.session_id = f.session_id
    WHERE f.session_id = ANY(:ids) AND f.indexable
      AND (si.active_model_id IS NULL OR f.model_id = si.active_model_id)
    GROUP BY f.session_id
    """
).bindparams(_IDS)
_PEOPLE = text(
    "SELECT session_id, count(DISTINCT person_id) AS n FROM person_faces"
    " WHERE session_id = ANY(:ids) GROUP BY session_id"
).bindparams(_IDS)


def _indexing(counts: PhotoCounts) -> IndexingState:
    if counts.total == 0:
        return "empty"
    return "indexing" if counts.pending + counts.indexing else "done"


def with_figures(conn: Connection, sessions: list[SessionInfo]) -> list[StudioSession]:
    """Each Pixora session with its photo, face and people counts (three grouped reads)."""
    ids = [s.id for s in sessions]
    photos: dict[uuid.UUID, dict[str, int]] = {}
    for row in conn.execute(_PHOTOS, {"ids": ids}):
        photos.setdefault(row.session_id, {})[row.status] = int(row.n)
    faces = {row.session_id: int(row.n) for row in conn.execute(_FACES, {"ids": ids})}
    people = {row.session_id: int(row.n) for row in conn.execute(_PEOPLE, {"ids": ids})}
    out = []
    for session in sessions:
        by_status = photos.get(session.id, {})
        counts = PhotoCounts(
            total=sum(by_status.values()),
            pending=by_status.get("pending", 0),
            indexing=by_status.get("indexing", 0),
            indexed=by_status.get("indexed", 0),
            failed=by_status.get("failed", 0),
        )
        out.append(
            StudioSession(
                id=session.id,
                name=session.name,
                studio_id=session.studio_id,
                status=session.status,
                facepass_enabled=session.facepass_enabled,
                created_at=session.created_at,
                photos=counts,
                faces=faces.get(session.id, 0),
                people=people.get(session.id, 0),
                indexing=_indexing(counts),
            )
        )
    return out


_LOCAL_SUFFIXES = (".local", ".localhost", ".internal", ".lan", ".home.arpa", ".test")


def why_not_public(url: str) -> str | None:
    """None when guests' phones could reach `url`; else the reason, in words. Judged on the
    host alone (no DNS lookup): an address must be global, a name must look like one."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host:
        return "The URL has no host."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
            return f"{host} is a name of this machine or this network only."
        if "." not in host:
            return f"{host} is a local name, not a public domain."
        return None
    if address.is_loopback:
        return f"{host} is a loopback address: it means each phone itself."
    if address.is_private or address.is_link_local or address.is_unspecified:
        return f"{host} is a private address, unreachable from guests' phones."
    if not address.is_global:
        return f"{host} is not a public address."
    return None
