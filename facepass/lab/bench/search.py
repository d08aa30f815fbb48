"""`facepass bench search` on real faces: the vector search and the whole search request.

Every face is a real one: the engine's embeddings of LFW photos (../shared/data; the first
`--lfw-photos` of them, whole people in name order), cached on disk.

- A *target session* of N faces holds LFW people with at least two photos (at most 20 each);
  one photo of each person is held out as their selfie, as a guest's selfie is not a session
  photo. Where those run out (a session of 30,000 faces), the rest of the session is *filler*:
  copies of other LFW people's faces, each nudged by a small random perturbation so that no
  two rows are identical (a copy sits ~0.005 from its original, cosine).
- *Distractor sessions* of 2,000 faces, made the same way from every LFW face, fill the table
  to `--total-faces`: the model's HNSW index spans all sessions, as in production, and the
  nearest neighbours of a guest are mostly copies of them in other sessions: the filtered
  HNSW walk must skip them (a hard case, like a guest photographed at many events).
- Recall of HNSW is measured against the exact search of the same session on the same queries
  (the API's own ranking on both paths), photo by photo, as a guest sees them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, text

from facepass.lab.eval.retrieval import AnalysisCache, LabelledPhoto, build_session
from facepass.lab.stats import percentiles
from facepass.photos.vector_index import ensure_vector_index, knn_expression, vector_index_name
from facepass.search.query import SelfieRejected, pick_query_face
from facepass.search.ranking import RankingParams, rank_photos
from facepass.search.vector_search import PgVectorFaceIndex, vector_literal

PERTURB_SIGMA = 0.009  # per dimension: cosine distance ≈ 64·σ² ≈ 0.005 from the original
FACES_PER_COPY_PHOTO = 2
DISTRACTOR_SESSION_FACES = 2000
MAX_PER_PERSON = 20


@dataclass
class Query:
    person: str
    embedding: np.ndarray
    selfie: Path


@dataclass
class BenchSession:
    """A session's faces (one photo id each) and, for target sessions, its guests' selfies."""

    embeddings: np.ndarray
    photo_ids: list[uuid.UUID]
    queries: list[Query] = field(default_factory=list)
    labelled_faces: int = 0  # faces of real labelled photos (the rest are perturbed copies)
    session_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def faces(self) -> int:
        return len(self.photo_ids)


@dataclass
class FacePool:
    """Every indexable face of the labelled photos: embedding and person."""

    embeddings: np.ndarray
    people: np.ndarray  # person name per row

    @classmethod
    def of(cls, cache: AnalysisCache, photos: Sequence[LabelledPhoto]) -> FacePool:
        rows, names = [], []
        for photo in photos:
            for embedding in _indexable(cache, photo.path):
                rows.append(embedding)
                names.append(photo.person)
        return cls(np.asarray(rows, np.float32), np.asarray(names))


def _indexable(cache: AnalysisCache, path: Path) -> list[np.ndarray]:
    return [
        np.asarray(face.embedding, np.float32)
        for face in cache.analysis(path).faces
        if face.quality.indexable and face.embedding is not None
    ]


def perturbed_copies(
    pool: FacePool, count: int, rng: np.random.Generator, exclude: Collection[str] = ()
) -> np.ndarray:
    """`count` faces of the pool (people in `exclude` left out), each slightly perturbed."""
    allowed = np.flatnonzero(~np.isin(pool.people, list(exclude))) if exclude else None
    rows = rng.choice(allowed if allowed is not None else len(pool.people), size=count)
    noisy = pool.embeddings[rows] + PERTURB_SIGMA * rng.standard_normal(
        (count, pool.embeddings.shape[1])
    ).astype(np.float32)
    unit: np.ndarray = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _copy_photo_ids(count: int) -> list[uuid.UUID]:
    photos = [
        uuid.uuid4() for _ in range((count + FACES_PER_COPY_PHOTO - 1) // FACES_PER_COPY_PHOTO)
    ]
    return [photos[i // FACES_PER_COPY_PHOTO] for i in range(count)]


def target_session(
    cache: AnalysisCache,
    people: dict[str, list[LabelledPhoto]],
    pool: FacePool,
    faces: int,
    rng: np.random.Generator,
    seed: int,
) -> BenchSession:
    """`faces` faces: LFW people with held-out selfies, then filler copies of other people."""
    labelled = build_session(
        people, faces, selfies_per_person=1, min_photos=2, max_per_person=MAX_PER_PERSON, seed=seed
    )
    rows: list[np.ndarray] = []
    photo_ids: list[uuid.UUID] = []
    for photo in labelled.photos:
        photo_id = uuid.uuid4()
        for embedding in _indexable(cache, photo.path):
            rows.append(embedding)
            photo_ids.append(photo_id)
    rows, photo_ids = rows[:faces], photo_ids[:faces]
    queries = []
    for person, selfies in labelled.selfies.items():
        try:
            face = pick_query_face(cache.analysis(selfies[0].path))
        except SelfieRejected:
            continue
        queries.append(Query(person, np.asarray(face.embedding, np.float32), selfies[0].path))
    session = BenchSession(np.asarray(rows, np.float32), photo_ids, queries, len(rows))
    missing = faces - session.faces
    if missing > 0:
        filler = perturbed_copies(pool, missing, rng, exclude=set(labelled.selfies))
        session.embeddings = np.concatenate([session.embeddings, filler])
        session.photo_ids += _copy_photo_ids(missing)
    return session


def distractor_sessions(
    pool: FacePool, faces: int, rng: np.random.Generator
) -> Iterator[BenchSession]:
    """Sessions of perturbed copies of any pool face, `faces` in all."""
    while faces > 0:
        size = min(DISTRACTOR_SESSION_FACES, faces)
        yield BenchSession(perturbed_copies(pool, size, rng), _copy_photo_ids(size))
        faces -= size


def copy_session(engine: Engine, session: BenchSession, model_id: str) -> None:
    """Insert the session's photos and faces with COPY (binary vectors through pgvector)."""
    from pgvector.psycopg import register_vector

    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        register_vector(conn)
        with conn.cursor() as cur:
            with cur.copy(
                "COPY photos (id, session_id, sha256, original_filename, storage_key,"
                " content_type, size_bytes, status) FROM STDIN"
            ) as copy:
                for photo_id in dict.fromkeys(session.photo_ids):
                    copy.write_row(
                        (
                            photo_id,
                            session.session_id,
                            photo_id.hex,
                            "bench.jpg",
                            f"bench/{photo_id}",
                            "image/jpeg",
                            0,
                            "indexed",
                        )
                    )
            with cur.copy(
                "COPY faces (photo_id, session_id, model_id, box_left, box_top, box_right,"
                " box_bottom, detection_score, size_px, sharpness, yaw, pitch, roll, indexable,"
                " embedding) FROM STDIN"
            ) as copy:
                for photo_id, embedding in zip(session.photo_ids, session.embeddings, strict=True):
                    box = (10.0, 10.0, 110.0, 130.0)
                    quality = (0.9, 100.0, 100.0, 0.0, 0.0, 0.0)
                    copy.write_row(
                        (photo_id, session.session_id, model_id, *box, *quality, True, embedding)
                    )
        conn.commit()
    finally:
        raw.close()


def drop_index(engine: Engine, model_id: str) -> None:
    """Drop the model's HNSW index before a bulk load (building it once afterwards is faster)."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP INDEX IF EXISTS {vector_index_name(model_id)}"))


def build_index(engine: Engine, model_id: str, dim: int) -> float:
    """Create the model's HNSW index (after loading: much faster than row by row); seconds."""
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        conn.execute(text("SET LOCAL max_parallel_maintenance_workers = 2"))
        ensure_vector_index(conn, model_id, dim)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE photos"))
        conn.execute(text("ANALYZE faces"))
    return time.perf_counter() - started


def _search(
    engine: Engine,
    session: BenchSession,
    model_id: str,
    query: np.ndarray,
    params: RankingParams,
    exact: bool,
    ef_search: int,
) -> tuple[set[uuid.UUID], float]:
    with engine.begin() as conn:
        started = time.perf_counter()
        index = PgVectorFaceIndex(
            conn, session.session_id, model_id, len(query), ef_search=ef_search, exact=exact
        )
        hits = rank_photos(index, [query], params)
        elapsed = (time.perf_counter() - started) * 1000
    return {hit.photo_id for hit in hits}, elapsed


def measure_vector_search(
    engine: Engine,
    session: BenchSession,
    model_id: str,
    params: RankingParams,
    queries: int,
    ef_values: Sequence[int],
) -> dict[str, dict[str, float]]:
    """The API's ranking (`params`: the model's threshold and factors, as the API ranks),
    exact and with HNSW at each ef_search, on the same `queries` selfies: latency, and the
    photos HNSW found of those the exact search found."""
    if not session.queries:
        raise ValueError("a target session without selfies")
    chosen = [session.queries[i % len(session.queries)] for i in range(queries)]
    exact_ms: list[float] = []
    truth: list[set[uuid.UUID]] = []
    for query in chosen:
        found, elapsed = _search(engine, session, model_id, query.embedding, params, True, 0)
        truth.append(found)
        exact_ms.append(elapsed)
    results = {"exact": {**percentiles(exact_ms), "recall_vs_exact": 1.0}}
    for ef in ef_values:
        latencies, kept, total = [], 0, 0
        for query, expected in zip(chosen, truth, strict=True):
            found, elapsed = _search(engine, session, model_id, query.embedding, params, False, ef)
            latencies.append(elapsed)
            kept += len(found & expected)
            total += len(expected)
        results[f"hnsw ef_search={ef}"] = {
            **percentiles(latencies),
            "recall_vs_exact": round(kept / total, 4) if total else 1.0,
        }
    results["exact"]["photos_found_per_query"] = round(sum(len(t) for t in truth) / len(truth), 2)
    results["exact"]["distinct_queries"] = len({q.selfie for q in chosen})
    return results


def query_plan(engine: Engine, session: BenchSession, model_id: str) -> str:
    """Which access path PostgreSQL takes for this session's plain k-NN (HNSW or exact)."""
    dim = session.embeddings.shape[1]
    where = "WHERE session_id = :s AND model_id = :m AND indexable"
    sql = text(
        f"EXPLAIN SELECT id FROM faces {where} ORDER BY {knn_expression(dim)} LIMIT 64"  # noqa: S608
    )
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)"))
        plan = [
            row[0]
            for row in conn.execute(
                sql,
                {
                    "s": session.session_id,
                    "m": model_id,
                    "q": vector_literal(session.embeddings[0]),
                },
            )
        ]
    if any("ix_faces_embedding" in line for line in plan):
        return "hnsw"
    return "exact (btree on session, then sort)"
