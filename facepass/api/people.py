"""Admin routes of a session's people: who is in the session, and the photos of each."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from facepass.api.admin import AdminAccess, AdminAuth
from facepass.api.dependencies import OwnDbDep, SignerDep
from facepass.errors import error_responses
from facepass.people import decisions, service
from facepass.people.schemas import (
    MergeIn,
    NameIn,
    PeoplePage,
    PersonFaces,
    PersonPhotos,
    PersonSummary,
    SplitIn,
)

router = APIRouter(
    prefix="/api/v1/sessions/{session_id}/people",
    tags=["people"],
    dependencies=[AdminAuth],
    responses=error_responses(401, 403, 422),
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


@router.get(
    "/{person_id}/faces",
    summary="The faces of one person",
    description="Each face with a signed thumbnail link of its photo and its box (original "
    "pixels), most typical first; `pinned` marks faces a studio decision placed.",
    responses=error_responses(404),
)
def person_faces(
    session_id: uuid.UUID,
    person_id: uuid.UUID,
    own_db: OwnDbDep,
    signer: SignerDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PersonFaces:
    with own_db.engine.connect() as conn:
        return service.person_faces(conn, signer, session_id, person_id, limit=limit, offset=offset)


DECISION_NOTE = (
    " The decision is kept for good: regroupings and re-indexing keep it (the faces are pinned,"
    " see docs/people.md)."
)


@router.post(
    "/{person_id}/merge",
    summary="Merge a person into another",
    description="Every face of this person joins `into`; this person is gone (its name moves "
    "to `into` if that has none). 409 SAME_PERSON: `into` is this person." + DECISION_NOTE,
    responses=error_responses(404, 409),
)
def merge_person(
    session_id: uuid.UUID,
    person_id: uuid.UUID,
    body: MergeIn,
    own_db: OwnDbDep,
    access: AdminAccess,
) -> PersonSummary:
    with own_db.engine.begin() as conn:
        merged = decisions.merge(conn, session_id, person_id, body.into)
    access.audit("merge_people", person_id=str(person_id), into=str(body.into))
    return merged


@router.post(
    "/{person_id}/split",
    summary="Split faces out of a person into a new person",
    description="The listed faces (some, not all, of this person's) become a new person, "
    "answered with its id. 409: a face that is not this person's (FACE_NOT_OF_PERSON), or "
    "every face of it (SPLIT_ALL_FACES)." + DECISION_NOTE,
    status_code=201,
    responses=error_responses(404, 409),
)
def split_person(
    session_id: uuid.UUID,
    person_id: uuid.UUID,
    body: SplitIn,
    own_db: OwnDbDep,
    access: AdminAccess,
) -> PersonSummary:
    with own_db.engine.begin() as conn:
        created = decisions.split(conn, session_id, person_id, body.face_ids)
    access.audit(
        "split_person",
        person_id=str(person_id),
        new_person_id=str(created.id),
        faces=created.face_count,
    )
    return created


@router.patch(
    "/{person_id}",
    summary="Name a person",
    description="Sets (or, with null, clears) the person's name." + DECISION_NOTE,
    responses=error_responses(404),
)
def name_person(
    session_id: uuid.UUID, person_id: uuid.UUID, body: NameIn, own_db: OwnDbDep, access: AdminAccess
) -> PersonSummary:
    with own_db.engine.begin() as conn:
        named = decisions.rename(conn, session_id, person_id, body.name)
    access.audit("name_person", person_id=str(person_id))
    return named
