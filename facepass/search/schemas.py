"""The search answer's shape (documented in OpenAPI)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class QueryFaceOut(BaseModel):
    """The face a selfie contributed: where it is in the selfie and how good it is."""

    selfie: int = Field(description="Index of the selfie in the request (0-based).")
    box: list[float] = Field(description="[left, top, right, bottom] in selfie pixels.")
    detection_score: float
    size_px: float
    sharpness: float
    yaw: float
    pitch: float
    turned: bool = Field(
        default=False,
        description="Turned away from the camera: used as a further angle, for turned photos.",
    )


class SkippedSelfie(BaseModel):
    """A selfie of a multi-selfie search that had no usable face (the others were used)."""

    selfie: int
    code: str
    detail: str


class PhotoLinks(BaseModel):
    """One photo of the session showing the guest, with signed links to it."""

    photo_id: uuid.UUID
    box: list[float] = Field(description="[left, top, right, bottom] of that face, original px.")
    width: int | None
    height: int | None
    captured_at: datetime | None
    thumb_url: str = Field(description="Signed, expiring link to a ~320 px JPEG.")
    face_url: str = Field(
        description="Signed, expiring link to a 320 px square JPEG centred on this face "
        "(`box`), the face filling 2/5 of it: the gallery's thumbnail."
    )
    large_url: str = Field(description="Signed, expiring link to a ~1600 px JPEG.")
    original_url: str = Field(description="Signed, expiring link to the original upload.")
    download_token: str = Field(description="Signed claim on the original, for the ZIP download.")
    people: list[int] = Field(
        default_factory=lambda: [0],
        description="Who is in this photo: 0 the guest, 1.. the people added to their results "
        "(POST /results/merge, 'me and my family').",
    )


_ADMIN_ONLY = (
    " Admin answers only (a bearer admin token or studio key): guests see matches, not scores."
)


class Match(PhotoLinks):
    """One photo found by a search; with an admin bearer, how close its best face is."""

    similarity: float | None = Field(
        default=None,
        description="1 - cosine distance of the best face; higher is closer." + _ADMIN_ONLY,
    )
    distance: float | None = Field(
        default=None,
        description="Cosine distance of the photo's best face to the query." + _ADMIN_ONLY,
    )


class IndexState(BaseModel):
    """How far indexing of the session has got (counts only: no photo ids)."""

    photos_indexed: int
    photos_pending: int


class SearchResponse(BaseModel):
    """Every photo of the guest found in the session (up to `max_results`), best first.

    All matches come in this one answer: the page shows them `page_size` at a time, so no page
    needs the selfie again. Links expire at `expires_at` (Unix time): search again after that.
    """

    session_id: uuid.UUID
    model_id: str
    threshold: float | None = Field(
        default=None, description="The match threshold (cosine distance)." + _ADMIN_ONLY
    )
    took_ms: float
    query_faces: list[QueryFaceOut]
    skipped_selfies: list[SkippedSelfie]
    total: int
    truncated: bool = Field(description="True when more photos matched than `max_results`.")
    page_size: int
    expires_at: int
    matches: list[Match]
    index: IndexState
    results_token: str = Field(
        description="Signed, expiring claim on these photos (up to FACEPASS_RESULTS_TOKEN_MAX_"
        "PHOTOS, best first): GET /results?token= gives fresh links until results_expires_at."
    )
    query_token: str = Field(
        description="Encrypted, expiring search (the selfies' face embeddings, readable by the "
        "server only): POST /recheck searches again for new photos without a selfie."
    )
    results_expires_at: int = Field(description="Expiry (Unix time) of both tokens.")


class ResultsResponse(BaseModel):
    """The photos of a results token, with fresh signed links (expiring at `expires_at`)."""

    session_id: uuid.UUID
    total: int
    expires_at: int
    results_expires_at: int
    matches: list[PhotoLinks]


class MergeRequest(BaseModel):
    """Results tokens of this session to show as one gallery: the guest's first."""

    results_tokens: list[str] = Field(min_length=2, max_length=4)


class MergedResults(ResultsResponse):
    """One gallery of several people's results, and the results token that covers them all."""

    results_token: str = Field(description="Covers every photo above; GET /results reads it.")
    people: int = Field(description="How many people the results are of.")


class RecheckRequest(BaseModel):
    """The query token of an earlier search of this session."""

    query_token: str = Field(min_length=1, max_length=100_000)


# What a guest's answer leaves out: scores tell whether a face is close to a guest's, so a
# photo of anyone, searched, would measure how likely that person attended.
GUEST_HIDDEN = {"threshold": True, "matches": {"__all__": {"similarity", "distance"}}}


def guest_view(answer: SearchResponse) -> dict[str, Any]:
    """A search answer as a guest sees it: matches, no similarity, distance or threshold."""
    return answer.model_dump(mode="json", exclude=GUEST_HIDDEN)  # type: ignore[arg-type]
