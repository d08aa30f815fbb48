"""`facepass bench search`: latency of the vector search alone and of the whole search request.

Sessions of N synthetic faces (unit embeddings in clusters of ~20, like guests appearing in
~20 photos each) are loaded with COPY into an embedded PostgreSQL with pgvector, all sessions
in one table under the model's partial HNSW index, as in production. The vector search is
timed through the API's own ranking code; the whole request is timed over HTTP against the
real app (uvicorn in a child process) with a real selfie, which the session also contains
(~20 faces of the selfie's person), so answers carry real matches and signed links.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, text

from facepass.lab.stats import percentiles
from facepass.photos.vector_index import ensure_vector_index, vector_index_name
from facepass.search.ranking import RankingParams, rank_photos, unit
from facepass.search.vector_search import PgVectorFaceIndex

FACES_PER_PERSON = 20
FACES_PER_PHOTO = 2
# Cosine distance ≈ 64·σ² for 128-d noise: faces sit ~0.03 from their person's centre, ~0.06
# from each other, well inside the engine's threshold (0.07), and ~1.0 from everyone else.
NOISE_SIGMA = 0.02


@dataclass
class SyntheticSession:
    session_id: uuid.UUID
    centres: np.ndarray  # one row per person
    embeddings: np.ndarray  # one row per face
    photo_ids: list[uuid.UUID]  # per face


def make_session(
    faces: int, dim: int, rng: np.random.Generator, extra_person: np.ndarray | None = None
) -> SyntheticSession:
    """`faces` unit embeddings in clusters; `extra_person` (a real selfie's) gets a cluster too."""
    people = max(1, faces // FACES_PER_PERSON)
    centres = rng.standard_normal((people, dim)).astype(np.float32)
    if extra_person is not None:
        centres[0] = extra_person
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    owners = np.arange(faces) % people
    noisy = centres[owners] + NOISE_SIGMA * rng.standard_normal((faces, dim)).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    photos = [uuid.uuid4() for _ in range((faces + FACES_PER_PHOTO - 1) // FACES_PER_PHOTO)]
    order = rng.permutation(faces)  # a person's faces spread over unrelated photos
    photo_ids = [photos[i // FACES_PER_PHOTO] for i in order]
    return SyntheticSession(uuid.uuid4(), centres, noisy.astype(np.float32), photo_ids)


def copy_session(engine: Engine, session: SyntheticSession, model_id: str) -> None:
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
                            "synthetic.jpg",
                            f"synthetic/{photo_id}",
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
                    copy.write_row(
                        (
                            photo_id,
                            session.session_id,
                            model_id,
                            10.0,
                            10.0,
                            110.0,
                            130.0,
                            0.9,
                            100.0,
                            100.0,
                            0.0,
                            0.0,
                            0.0,
                            True,
                            embedding,
                        )
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


def queries_for(
    session: SyntheticSession, count: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Selfie-like queries: a person's centre plus the same noise as their faces."""
    dim = session.centres.shape[1]
    for _ in range(count):
        person = int(rng.integers(len(session.centres)))
        yield unit(session.centres[person] + NOISE_SIGMA * rng.standard_normal(dim))


def exact_photos(session: SyntheticSession, query: np.ndarray, threshold: float) -> set[uuid.UUID]:
    """Ground truth by brute force: every photo with a face within the threshold."""
    distances = 1.0 - session.embeddings @ query
    return {session.photo_ids[i] for i in np.flatnonzero(distances <= threshold)}


def time_vector_search(
    engine: Engine,
    session: SyntheticSession,
    model_id: str,
    threshold: float,
    queries: int,
    ef_search: int,
    rng: np.random.Generator,
    exact: bool | None = None,
) -> dict[str, float]:
    """Latency of the API's ranking on pgvector, and its recall against brute force."""
    params = RankingParams(threshold=threshold)
    latencies = []
    found_total = truth_total = 0
    dim = session.embeddings.shape[1]
    for query in queries_for(session, queries, rng):
        with engine.begin() as conn:
            started = time.perf_counter()
            index = PgVectorFaceIndex(
                conn, session.session_id, model_id, dim, ef_search=ef_search, exact=exact
            )
            hits = rank_photos(index, [query], params)
            latencies.append((time.perf_counter() - started) * 1000)
        truth = exact_photos(session, query, threshold)
        found_total += len({h.photo_id for h in hits} & truth)
        truth_total += len(truth)
    summary = percentiles(latencies)
    summary["recall_vs_exact"] = round(found_total / truth_total, 4) if truth_total else 1.0
    return summary


def query_plan(engine: Engine, session: SyntheticSession, model_id: str) -> str:
    """Which access path PostgreSQL takes for this session's k-NN (HNSW or exact)."""
    dim = session.embeddings.shape[1]
    from facepass.photos.vector_index import knn_expression
    from facepass.search.vector_search import vector_literal

    distance = knn_expression(dim)
    where = "WHERE session_id = :s AND model_id = :m AND indexable"
    sql = text(f"EXPLAIN SELECT id FROM faces {where} ORDER BY {distance} LIMIT 64")  # noqa: S608
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)"))
        plan = [
            row[0]
            for row in conn.execute(
                sql,
                {"s": session.session_id, "m": model_id, "q": vector_literal(session.centres[0])},
            )
        ]
    if any("ix_faces_embedding" in line for line in plan):
        return "hnsw"
    return "exact (btree on session, then sort)"
