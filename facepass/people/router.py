"""Admin routes of a session's people: who is in the session, and the photos of each."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from facepass.access.dependencies import AdminAuth
from facepass.dependencies import OwnDbDep, SignerDep
from facepass.errors import error_responses
from facepass.people import service
from facepass.people.schemas import PeoplePage, PersonPhotos

router = APIRouter(
    prefix="/api/v1/sessions/{session_id}/people",
    tags=["people"],
    dependencies=[AdminAuth],
    responses=error_responses(401, 422),
)

LIST_DESCRIPTION = """
The session's faces grouped into people (recomputed in the background after photos are indexed;
`grouped_at` says when). Two faces of one photo are never one person. Each person has a stable
id, its face and photo counts, and a cover face: a signed, expiring link to the thumbnail of
its photo with the face's box in the original photo's pixels. An unknown or ungrouped session
has no people (an empty page).
"""


@router.get("", summary="List a session's people", description=LIST_DESCRIPTION)
def list_people(
    session_id: uuid.UUID,
    own_db: OwnDbDep,
    signer: SignerDep,
    min_faces: Annotated[int, Query(ge=1, le=10_000, description="Hide smaller groups.")] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PeoplePage:
    with own_db.engine.connect() as conn:
        return service.list_people(
            conn, signer, session_id, min_faces=min_faces, limit=limit, offset=offset
        )


@router.get(
    "/{person_id}/photos",
    summary="The photos of one person",
    description="Photo ids of the person, in capture order (then upload order), paginated.",
    responses=error_responses(404),
)
def person_photos(
    session_id: uuid.UUID,
    person_id: uuid.UUID,
    own_db: OwnDbDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PersonPhotos:
    with own_db.engine.connect() as conn:
        return service.person_photos(conn, session_id, person_id, limit=limit, offset=offset)
