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
from facepass.privacy.removals import new_ticket
from facepass.privacy.suppression import Suppressed, suppress_faces
from facepass.search.query import QueryFace
from facepass.search.service import find_photos, ranking_params
from facepass.usage.recorder import record_usage

if TYPE_CHECKING:
    from facepass.engine_config import Engines

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
    client_hash: str | None = None,
) -> Suppressed:
    """Suppress the guest's faces in the session as one removal the studio can review and
    restore; one audit row with the counts only. An opt-out that matches nothing is counted
    (usage `opt_outs_unmatched`), not written down."""
    params = ranking_params(settings, engines, engine)
    ticket = new_ticket(OPT_OUT, audit.GUEST, settings.removal_review_days, client_hash)
    faces = photos = 0
    for _ in range(MAX_PASSES):
        found = find_photos(own_db, settings, session_id, engine, queries, params)
        if not found.hits:
            break
        with own_db.session() as db:
            done = suppress_faces(db, session_id, [hit.face_id for hit in found.hits], ticket)
        faces, photos = faces + done.faces, photos + done.photos
    if faces == 0:
        record_usage(session_id, "opt_outs_unmatched")
        logger.info("guest opt-out matched nothing", extra={"session_id": str(session_id)})
        return Suppressed(0, 0)
    counts: dict[str, object] = {"faces": faces, "photos": photos, "removal_id": str(ticket.id)}
    if consent_version:
        counts["consent_version"] = consent_version
    with own_db.session() as db:
        audit.record(db, actor=audit.GUEST, action="opt_out", session_id=session_id, counts=counts)
    logger.info("guest opted out", extra={"session_id": str(session_id), **counts})
    return Suppressed(faces, photos)
