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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from anyio import to_thread
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Uuid

from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.engine import FaceEngine, ModelError
from facepass.engine.embedders.base import FloatArray, UInt8Array
from facepass.engine.selfie import SelfieProfile, StageClock
from facepass.engine.types import Embedding
from facepass.errors import ServiceUnavailable
from facepass.guest.selfies import Selfie
from facepass.guest.signing import MediaSigner
from facepass.guest.tokens import FoundPhoto, GuestTokens, QueryVector, Results
from facepass.photos.service import active_model_id
from facepass.privacy.suppression import is_suppressed, suppressed_boxes
from facepass.search.crowd import SearchCrowd
from facepass.search.people import expand_with_people
from facepass.search.query import (
    PreparedQuery,
    QueryFace,
    SelfieRejected,
    not_frontal,
    prepare_query,
)
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
    """The usable faces of a search's selfies, why the others were skipped, and where the
    time went (stages of the selfie path, wall and CPU ms, summed over the selfies)."""

    queries: list[QueryFace]
    skipped: list[SkippedSelfie]
    elapsed_ms: float
    profile: SelfieProfile = field(default_factory=SelfieProfile)


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


Prepared = PreparedQuery | SelfieRejected


def prepare_queries(
    engine: FaceEngine, selfies: Sequence[Selfie], profile: SelfieProfile
) -> list[Prepared]:
    """Each selfie up to its chosen face's embedding (the selfie path), or why it is refused.

    Turned faces are kept as further angles (they find the guest's turned photos).
    """
    prepared: list[Prepared] = []
    for selfie in selfies:
        try:
            prepared.append(prepare_query(engine, selfie.data, allow_turned=True, profile=profile))
        except SelfieRejected as exc:
            prepared.append(exc)
    return prepared


def _crops(prepared: Sequence[Prepared]) -> list[UInt8Array]:
    return [p.crop for p in prepared if isinstance(p, PreparedQuery)]


def _embedded(
    prepared: Sequence[Prepared], vectors: FloatArray, started: float, profile: SelfieProfile
) -> Embedded:
    """The queries once embedded; SelfieRejected (the first reason) when none is usable, and
    `FACE_NOT_FRONTAL` when every usable one is turned (a search needs one frontal selfie)."""
    queries: list[QueryFace] = []
    rejections: list[SelfieRejected] = []
    skipped: list[SkippedSelfie] = []
    row = 0
    for index, item in enumerate(prepared):
        if isinstance(item, SelfieRejected):
            rejections.append(item)
            skipped.append(SkippedSelfie(selfie=index, code=item.code, detail=item.detail))
            continue
        queries.append(item.query(index, vectors[row]))
        row += 1
    if not queries:
        raise rejections[0]
    if all(q.face.quality.turned for q in queries):
        raise not_frontal()
    return Embedded(queries, skipped, (time.perf_counter() - started) * 1000, profile)


def embed_selfies(engine: FaceEngine, selfies: Sequence[Selfie]) -> Embedded:
    """Each selfie's main face, all embedded in one call; SelfieRejected (the first reason)
    when none is usable (blocking: call it off the event loop)."""
    started = time.perf_counter()
    profile = SelfieProfile()
    prepared = prepare_queries(engine, selfies, profile)
    clock = StageClock(profile)
    crops = _crops(prepared)
    vectors = (
        engine.embed_faces(crops) if crops else np.zeros((0, engine.embedding_dim), np.float32)
    )
    clock.lap("embed")
    return _embedded(prepared, vectors, started, profile)


async def embed_selfies_in_crowd(
    engine: FaceEngine, selfies: Sequence[Selfie], crowd: SearchCrowd
) -> Embedded:
    """`embed_selfies` under a crowd: a place in this process's line (429 SERVER_BUSY when it
    is full), the selfie path behind the engine gate, and the chosen faces embedded in a
    micro-batch with other searches' faces."""
    async with crowd.line.admitted():
        started = time.perf_counter()
        profile = SelfieProfile()
        prepared = await to_thread.run_sync(
            prepare_queries, engine, selfies, profile, limiter=crowd.gate
        )
        vectors = await crowd.batcher.embed(engine, _crops(prepared), profile)
        crowd.line.served(sum(profile.wall_ms.values()) / 1000)
    return _embedded(prepared, vectors, started, profile)


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
    profile: SelfieProfile = field(default_factory=SelfieProfile)  # ranking, photos


def find_photos(
    own_db: OwnDatabase,
    settings: Settings,
    session_id: uuid.UUID,
    engine: FaceEngine,
    queries: Sequence[SearchQuery],
    params: RankingParams,
) -> Found:
    """The session's photos of the person, ranked by similarity then capture time."""
    clock = StageClock(SelfieProfile())
    with own_db.engine.begin() as conn:
        started = time.perf_counter()
        clock.restart()
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
        clock.lap("ranking")
        rows = conn.execute(_PHOTOS, {"s": session_id, "ids": [h.photo_id for h in hits]})
        photos = {row.id: PhotoMeta(row.width, row.height, row.captured_at) for row in rows}
        state = conn.execute(_INDEX_STATE, {"s": session_id}).one()
        clock.lap("photos")
    # A photo deleted between the two reads is dropped rather than linked.
    hits = [h for h in hits if h.photo_id in photos]
    latest = datetime.max.replace(tzinfo=UTC)
    hits.sort(key=lambda h: (round(h.distance, 3), photos[h.photo_id].captured_at or latest))
    return Found(
        hits,
        photos,
        IndexState(photos_indexed=state.indexed, photos_pending=state.pending),
        vector_ms,
        clock.profile,
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
    profile: SelfieProfile | None = None,
) -> SearchResponse:
    """The answer, with signed links to every size of every photo found, and the tokens that
    let the guest's browser show them again later (`signing` and `tokens` in `profile`)."""
    clock = StageClock(profile if profile is not None else SelfieProfile())
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
    clock.lap("signing")
    kept_until = keys.query_expires_at or int(time.time()) + keys.results_ttl_s
    results_token = keys.tokens.results_token(
        session_id,
        [FoundPhoto(m.photo_id, (m.box[0], m.box[1], m.box[2], m.box[3])) for m in matches][
            : keys.results_max_photos
        ],
        kept_until,
    )
    query_token = keys.tokens.query_token(session_id, engine.model_id, queries, kept_until)
    clock.lap("tokens")
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


def server_timing(embedded: Embedded, found: Found, took_ms: float, answer: SelfieProfile) -> str:
    """The Server-Timing header: the steps as before (`embed`, `vector`, `total`), then every
    stage's wall ms (`stage-*`) and CPU ms of its thread (`cpu-*`, `cpu` their sum)."""
    profile = SelfieProfile()
    for part in (embedded.profile, found.profile, answer):
        profile.add(part)
    entries = [
        f"embed;dur={embedded.elapsed_ms:.1f}",
        f"vector;dur={found.vector_ms:.1f}",
        f"total;dur={took_ms:.1f}",
    ]
    entries += [f"stage-{name};dur={ms:.1f}" for name, ms in profile.wall_ms.items()]
    entries += [f"cpu-{name};dur={ms:.1f}" for name, ms in profile.cpu_ms.items()]
    entries.append(f"cpu;dur={profile.cpu_total_ms:.1f}")
    return ", ".join(entries)


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
    # is not shown again: the token is older than the removal, the removal wins. A photo of
    # several people of one family is one match, marked with each of them (its crop: the first).
    by_photo: dict[uuid.UUID, PhotoLinks] = {}
    for p in results.photos:
        if p.photo_id not in photos or is_suppressed(p.box, suppressed.get(p.photo_id, ())):
            continue
        if p.photo_id in by_photo:
            if p.person not in by_photo[p.photo_id].people:
                by_photo[p.photo_id].people.append(p.person)
            continue
        links = _links(signer, p.photo_id, p.box, photos[p.photo_id], expires_at)
        by_photo[p.photo_id] = PhotoLinks(**links, people=[p.person])
    matches = list(by_photo.values())
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
