"""Admin routes for a session's photos: upload, list, check, delete, index status."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from facepass.api.admin import AdminAccess, AdminAuth
from facepass.api.dependencies import (
    DbSession,
    ExistingSession,
    OwnDbDep,
    QueueDep,
    SettingsDep,
    StorageDep,
)
from facepass.engine_config import engine_config
from facepass.errors import error_responses
from facepass.photos import service
from facepass.photos.schemas import (
    DeletedPhotos,
    HashCheck,
    HashCheckResult,
    IndexStatus,
    PhotoPage,
    PhotoStatus,
    UploadResult,
)
from facepass.photos.upload import FILES_FIELD, MultipartReceiver
from facepass.pixora.validation import EXISTING_SESSION_ERRORS

router = APIRouter(
    prefix="/api/v1/sessions/{session_id}",
    tags=["photos"],
    dependencies=[AdminAuth],
    responses=error_responses(401, 403, 422),
)

MAX_OFFSET = 2**31 - 1  # far past any session; PostgreSQL's bigint would overflow at 2**63

UPLOAD_DESCRIPTION = f"""
Upload photos as `multipart/form-data`, any number of parts named `{FILES_FIELD}` (up to
`FACEPASS_MAX_FILES_PER_UPLOAD` per request, each up to `FACEPASS_MAX_UPLOAD_BYTES`). The body is
streamed to temp files while hashed, never held in memory.

Each file gets its own answer. Uploading the same bytes again is safe: the existing photo is
reported with `duplicate: true`. Files whose first bytes are not those of an image (JPEG, PNG,
WebP, HEIC/HEIF, AVIF, TIFF, GIF, BMP) are refused at once (`UNSUPPORTED_TYPE`); a file that
looks like an image but cannot be decoded is accepted and fails at indexing (`CORRUPT_IMAGE`).
Only sessions that exist in Pixora accept photos (FacePass need not be enabled yet).
"""


@router.post(
    "/photos",
    summary="Upload photos",
    description=UPLOAD_DESCRIPTION,
    responses={**EXISTING_SESSION_ERRORS, **error_responses(400, 413, 503)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            FILES_FIELD: {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            }
                        },
                        "required": [FILES_FIELD],
                    }
                }
            },
        }
    },
)
async def upload_photos(
    session: ExistingSession,
    request: Request,
    access: AdminAccess,
    settings: SettingsDep,
    own_db: OwnDbDep,
    storage: StorageDep,
    queue: QueueDep,
) -> UploadResult:
    receiver = MultipartReceiver(
        settings.data_dir / "tmp",
        max_file_bytes=settings.max_upload_bytes,
        max_files=settings.max_files_per_upload,
    )
    files = await receiver.receive(request.headers.get("content-type", ""), request.stream())
    try:
        result = await asyncio.to_thread(
            service.store_uploads, own_db, storage, queue, settings, session.id, files
        )
    finally:
        receiver.discard_all()
    access.audit(
        "upload", accepted=result.accepted, duplicates=result.duplicates, rejected=result.rejected
    )
    return result


@router.get("/photos", summary="List a session's photos")
def list_photos(
    session_id: uuid.UUID,
    db: DbSession,
    status: Annotated[PhotoStatus | None, Query(description="Only photos of this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PhotoPage:
    return service.list_photos(db, session_id, status=status, limit=limit, offset=offset)


@router.post(
    "/photos/check",
    summary="Which files are already uploaded (by SHA-256)",
    description="Lets an import resume: send up to 1000 digests, get back those already stored.",
)
def check_photos(
    session_id: uuid.UUID, body: HashCheck, db: DbSession, access: AdminAccess
) -> HashCheckResult:
    access.audit("check_photos", hashes=len(body.sha256))
    return HashCheckResult(known=service.check_hashes(db, session_id, body.sha256))


@router.delete(
    "/photos/{photo_id:uuid}",  # never "check": POST-only /photos/check answers 405
    summary="Delete one photo (row, faces and files)",
    status_code=204,
    responses=error_responses(404),
)
def delete_photo(
    session_id: uuid.UUID,
    photo_id: uuid.UUID,
    access: AdminAccess,
    own_db: OwnDbDep,
    storage: StorageDep,
) -> Response:
    service.delete_photo(own_db, storage, session_id, photo_id)
    access.audit("delete_photo", photos=1, photo_id=str(photo_id))
    return Response(status_code=204)


@router.delete("/photos", summary="Delete all of a session's photos, faces and files")
def delete_session_photos(
    session_id: uuid.UUID, access: AdminAccess, own_db: OwnDbDep, storage: StorageDep
) -> DeletedPhotos:
    deleted = service.delete_session_photos(own_db, storage, session_id)
    access.audit(
        "delete_session_photos", photos=deleted.deleted_photos, files=deleted.deleted_files
    )
    return deleted


@router.get("/index-status", summary="Indexing progress of a session")
def index_status(session_id: uuid.UUID, db: DbSession, settings: SettingsDep) -> IndexStatus:
    default_model = engine_config(settings).embedder
    return service.index_status(db, session_id, default_model)
