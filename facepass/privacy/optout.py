"""A guest's opt-out: the search's own matching, then suppression of every face it finds.

The ranking runs again after each removal (at most `MAX_PASSES` times): a face that only the
removed ones kept out of the top results is found and removed too, so a later search by the
same guest finds none of their faces in the session.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from facepass.access import audit
from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.engine import FaceEngine
from facepass.privacy.models import OPT_OUT
from facepass.privacy.suppression import Suppressed, suppress_faces
from facepass.search.query import QueryFace
from facepass.search.service import find_photos, ranking_params

if TYPE_CHECKING:
    from facepass.dependencies import Engines

logger = logging.getLogger(__name__)

MAX_PASSES = 3


def opt_out(
    own_db: OwnDatabase,
    settings: Settings,
    engines: Engines,
    session_id: uuid.UUID,
    engine: FaceEngine,
    queries: Sequence[QueryFace],
    consent_version: str | None = None,
) -> Suppressed:
    """Suppress the guest's faces in the session; one audit row with the counts only."""
    params = ranking_params(settings, engines, engine)
    faces = photos = 0
    for _ in range(MAX_PASSES):
        found = find_photos(own_db, settings, session_id, engine, queries, params)
        if not found.hits:
            break
        with own_db.session() as db:
            done = suppress_faces(db, session_id, [hit.face_id for hit in found.hits], OPT_OUT)
        faces, photos = faces + done.faces, photos + done.photos
    counts: dict[str, object] = {"faces": faces, "photos": photos}
    if consent_version:
        counts["consent_version"] = consent_version
    with own_db.session() as db:
        audit.record(db, actor=audit.GUEST, action="opt_out", session_id=session_id, counts=counts)
    logger.info("guest opted out", extra={"session_id": str(session_id), **counts})
    return Suppressed(faces, photos)
