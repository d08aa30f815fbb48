"""Selfie search behind the route: which model, which faces, which photos, which links.

Everything here is blocking (engine, database) and runs in worker threads; the route only
awaits it. Selfies live in memory for the length of the request unless the operator turned
`retain_selfies` on for debugging.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Uuid

from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.engine import FaceEngine, ModelError
from facepass.engine.types import Embedding
from facepass.errors import ServiceUnavailable
from facepass.guest.selfies import Selfie
from facepass.guest.signing import MediaSigner
from facepass.guest.tokens import FoundPhoto, GuestTokens, QueryVector, Results
from facepass.photos.service import active_model_id
from facepass.privacy.suppression import is_suppressed, suppressed_boxes
from facepass.search.people import expand_with_people
from facepass.search.query import QueryFace, SelfieRejected, analyze_selfie, not_frontal
from facepass.search.ranking import FaceHit, RankingParams, rank_photos
from facepass.search.schemas import (
    IndexState,
    Match,
    PhotoLinks,
    QueryFaceOut,
    ResultsResponse,
    SearchResponse,
    SkippedSelfie,
)
from facepass.search.vector_search import PgVectorFaceIndex

if TYPE_CHECKING:
    from facepass.engine_config import Engines

logger = logging.getLogger(__name__)

_PHOTOS = text(
    "SELECT id, width, height, captured_at FROM photos WHERE session_id = :s AND id = ANY(:ids)"
).bindparams(bindparam("ids", type_=ARRAY(Uuid())))
_INDEX_STATE = text(
    """
    SELECT count(*) FILTER (WHERE status = 'indexed') AS indexed,
           count(*) FILTER (WHERE status IN ('pending', 'indexing')) AS pending
    FROM photos WHERE session_id = :s
    """
)


class SearchQuery(Protocol):
    """What a search needs of a query face: a selfie's QueryFace or a query token's vector."""

    @property
    def embedding(self) -> Embedding: ...

    @property
    def yaw(self) -> float: ...


@dataclass(frozen=True, slots=True)
class PhotoMeta:
    width: int | None
    height: int | None
    captured_at: datetime | None


@dataclass(frozen=True, slots=True)
class Embedded:
    """The usable faces of a search's selfies, and why the others were skipped."""

    queries: list[QueryFace]
    skipped: list[SkippedSelfie]
    elapsed_ms: float


def engine_for_session(own_db: OwnDatabase, engines: Engines, session_id: uuid.UUID) -> FaceEngine:
    """The engine that embeds like the session's active index (its model may not be ours)."""
    default = engines.get()
    with own_db.sessions() as db:
        model_id = active_model_id(db, session_id, default.model_id)
    try:
        return engines.for_model(model_id)
    except ModelError:
        logger.error("model of a session index unavailable", extra={"model_id": model_id})
        raise ServiceUnavailable(
            "Search for this session needs a face model that is not installed here.",
            code="MODEL_UNAVAILABLE",
        ) from None


def embed_selfies(engine: FaceEngine, selfies: Sequence[Selfie]) -> Embedded:
    """Each selfie's main face; SelfieRejected (the first reason) when none is usable.

    Turned faces are kept as further angles (they find the guest's turned photos), but a search
    needs at least one frontal selfie: `FACE_NOT_FRONTAL` otherwise.
    """
    started = time.perf_counter()
    queries: list[QueryFace] = []
    rejections: list[SelfieRejected] = []
    skipped: list[SkippedSelfie] = []
    for index, selfie in enumerate(selfies):
        try:
            queries.append(analyze_selfie(engine, selfie.data, index, allow_turned=True))
        except SelfieRejected as exc:
            rejections.append(exc)
            skipped.append(SkippedSelfie(selfie=index, code=exc.code, detail=exc.detail))
    if not queries:
        raise rejections[0]
    if all(q.face.quality.turned for q in queries):
        raise not_frontal()
    return Embedded(queries, skipped, (time.perf_counter() - started) * 1000)


def query_vectors(embedded: Embedded) -> list[QueryVector]:
    """What a search (and its query token) keeps of each selfie: embedding and pose."""
    return [
        QueryVector(q.embedding, q.face.quality.yaw, q.face.quality.pitch) for q in embedded.queries
    ]


def ranking_params(settings: Settings, engines: Engines, engine: FaceEngine) -> RankingParams:
    """The threshold configured for the default model, or the model's own."""
    configured = settings.search_threshold
    same_model = engine.model_id == engines.get().model_id
    threshold = configured if configured is not None and same_model else engine.match_threshold
    return RankingParams(
        threshold=threshold,
        max_faces=2 * settings.search_max_results,
        combine=settings.search_combine,
        expansion=settings.search_query_expansion,
        consensus=settings.search_consensus,
    ).with_factors(engine.ranking_factors)


@dataclass(frozen=True, slots=True)
class Found:
    """Photos found, their metadata, and the session's indexing state."""

    hits: list[FaceHit]
    photos: dict[uuid.UUID, PhotoMeta]
    index: IndexState
    vector_ms: float


def find_photos(
    own_db: OwnDatabase,
    settings: Settings,
    session_id: uuid.UUID,
    engine: FaceEngine,
    queries: Sequence[SearchQuery],
    params: RankingParams,
) -> Found:
    """The session's photos of the person, ranked by similarity then capture time."""
    with own_db.engine.begin() as conn:
        started = time.perf_counter()
        index = PgVectorFaceIndex(
            conn,
            session_id,
            engine.model_id,
            engine.embedding_dim,
            ef_search=settings.search_ef_search,
        )
        hits = rank_photos(
            index,
            [q.embedding for q in queries],
            params,
            yaws=[q.yaw for q in queries],
        )
        if settings.people_search_expansion:
            hits = expand_with_people(
                conn,
                session_id,
                engine.model_id,
                engine.embedding_dim,
                [q.embedding for q in queries],
                hits,
                params.threshold,
            )
        vector_ms = (time.perf_counter() - started) * 1000
        rows = conn.execute(_PHOTOS, {"s": session_id, "ids": [h.photo_id for h in hits]})
        photos = {row.id: PhotoMeta(row.width, row.height, row.captured_at) for row in rows}
        state = conn.execute(_INDEX_STATE, {"s": session_id}).one()
    # A photo deleted between the two reads is dropped rather than linked.
    hits = [h for h in hits if h.photo_id in photos]
    latest = datetime.max.replace(tzinfo=UTC)
    hits.sort(key=lambda h: (round(h.distance, 3), photos[h.photo_id].captured_at or latest))
    return Found(
        hits,
        photos,
        IndexState(photos_indexed=state.indexed, photos_pending=state.pending),
        vector_ms,
    )


def _links(
    signer: MediaSigner, photo_id: uuid.UUID, box: Sequence[float], meta: PhotoMeta, expires: int
) -> dict[str, Any]:
    return {
        "photo_id": photo_id,
        "box": [round(v, 1) for v in box],
        "width": meta.width,
        "height": meta.height,
        "captured_at": meta.captured_at,
        "thumb_url": signer.media_path(photo_id, "thumb", expires),
        "face_url": signer.crop_path(photo_id, "face", box, expires),
        "large_url": signer.media_path(photo_id, "large", expires),
        "original_url": signer.media_path(photo_id, "original", expires),
        "download_token": signer.token(photo_id, expires),
    }


@dataclass(frozen=True, slots=True)
class GuestKeys:
    """What the answer is signed and sealed with, and for how long the guest may keep it."""

    signer: MediaSigner
    tokens: GuestTokens
    results_ttl_s: int
    results_max_photos: int
    query_expires_at: int | None = None  # a recheck keeps its query token's expiry


def build_response(
    *,
    session_id: uuid.UUID,
    engine: FaceEngine,
    params: RankingParams,
    queries: Sequence[QueryVector],
    query_faces: Sequence[QueryFaceOut],
    skipped: Sequence[SkippedSelfie],
    found: Found,
    keys: GuestKeys,
    page_size: int,
    max_results: int,
    started: float,
) -> SearchResponse:
    """The answer, with signed links to every size of every photo found, and the tokens that
    let the guest's browser show them again later."""
    signer = keys.signer
    expires_at = signer.expiry()
    matches = []
    for hit in found.hits[:max_results]:
        meta = found.photos[hit.photo_id]
        matches.append(
            Match(
                similarity=round(1.0 - hit.distance, 4),
                distance=round(hit.distance, 4),
                **_links(signer, hit.photo_id, hit.box, meta, expires_at),
            )
        )
    kept_until = keys.query_expires_at or int(time.time()) + keys.results_ttl_s
    results_token = keys.tokens.results_token(
        session_id,
        [FoundPhoto(m.photo_id, (m.box[0], m.box[1], m.box[2], m.box[3])) for m in matches][
            : keys.results_max_photos
        ],
        kept_until,
    )
    query_token = keys.tokens.query_token(session_id, engine.model_id, queries, kept_until)
    return SearchResponse(
        session_id=session_id,
        model_id=engine.model_id,
        threshold=params.threshold,
        took_ms=round((time.perf_counter() - started) * 1000, 1),
        query_faces=list(query_faces),
        skipped_selfies=list(skipped),
        total=len(matches),
        truncated=len(found.hits) > max_results,
        page_size=page_size,
        expires_at=expires_at,
        matches=matches,
        index=found.index,
        results_token=results_token,
        query_token=query_token,
        results_expires_at=kept_until,
    )


def describe_queries(embedded: Embedded) -> list[QueryFaceOut]:
    """The faces the selfies contributed, for the answer."""
    return [
        QueryFaceOut(
            selfie=q.selfie_index,
            box=[round(v, 1) for v in q.face.box.as_list()],
            detection_score=round(q.face.quality.detection_score, 3),
            size_px=round(q.face.quality.size_px, 1),
            sharpness=round(q.face.quality.sharpness, 1),
            yaw=round(q.face.quality.yaw, 1),
            pitch=round(q.face.quality.pitch, 1),
            turned=q.face.quality.turned,
        )
        for q in embedded.queries
    ]


def results_of_token(own_db: OwnDatabase, results: Results, signer: MediaSigner) -> ResultsResponse:
    """Fresh links to the photos of a results token that still exist in its session."""
    ids = [p.photo_id for p in results.photos]
    with own_db.engine.connect() as conn:
        rows = conn.execute(_PHOTOS, {"s": results.session_id, "ids": ids})
        photos = {row.id: PhotoMeta(row.width, row.height, row.captured_at) for row in rows}
        suppressed = suppressed_boxes(conn, results.session_id, ids)
    expires_at = signer.expiry()
    # A photo whose face of this search was removed since (an opt-out, a studio's removal)
    # is not shown again: the token is older than the removal, the removal wins.
    matches = [
        PhotoLinks(**_links(signer, p.photo_id, p.box, photos[p.photo_id], expires_at))
        for p in results.photos
        if p.photo_id in photos and not is_suppressed(p.box, suppressed.get(p.photo_id, ()))
    ]
    return ResultsResponse(
        session_id=results.session_id,
        total=len(matches),
        expires_at=expires_at,
        results_expires_at=results.expires_at,
        matches=matches,
    )


def retain_selfies(data_dir: Path, session_id: uuid.UUID, selfies: Sequence[Selfie]) -> None:
    """Debugging only (FACEPASS_RETAIN_SELFIES): keep this search's selfies on disk."""
    folder = data_dir / "selfies" / str(session_id)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    name = uuid.uuid4().hex[:8]
    for index, selfie in enumerate(selfies):
        (folder / f"{stamp}-{name}-{index}.jpg").write_bytes(selfie.data)
    logger.warning(
        "selfies retained for debugging (FACEPASS_RETAIN_SELFIES is on)",
        extra={"session_id": str(session_id), "count": len(selfies), "folder": str(folder)},
    )


def log_search(session_id: uuid.UUID, **counts: Any) -> None:
    """One line per search: counts and timings, never an image or an embedding."""
    logger.info("search", extra={"session_id": str(session_id), **counts})
