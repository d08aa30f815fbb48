"""Per-model vector indexes on `faces.embedding` (a partial HNSW index for each model).

`faces.embedding` has no fixed dimension so several models can coexist; each model gets an
expression index over `embedding::vector(dim)` restricted to its own rows. k-NN queries must
use the very same expression (see `knn_expression`) or PostgreSQL will not use the index.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from facepass.locks import AdvisoryLock, wait_for_lock

_MODEL_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def _checked(model_id: str, dim: int) -> None:
    # Both end up inside DDL, where bind parameters are not allowed: accept only safe values.
    if not _MODEL_ID_PATTERN.match(model_id):
        raise ValueError(f"model id {model_id!r} may hold only letters, digits, '.', '_', '-'")
    if not 1 <= dim <= 16000:
        raise ValueError(f"embedding dimension {dim} is out of range")


def vector_index_name(model_id: str) -> str:
    """The index name of one model (PostgreSQL truncates names at 63 bytes)."""
    slug = re.sub(r"[^a-z0-9]+", "_", model_id.lower()).strip("_")
    return f"ix_faces_embedding_{slug}"[:63]


def vector_index_ddl(model_id: str, dim: int) -> str:
    """CREATE INDEX IF NOT EXISTS for one model's partial HNSW cosine index."""
    _checked(model_id, dim)
    return (
        f"CREATE INDEX IF NOT EXISTS {vector_index_name(model_id)} ON faces "
        f"USING hnsw ((embedding::vector({dim})) vector_cosine_ops) "
        f"WHERE model_id = '{model_id}'"
    )


def knn_expression(dim: int) -> str:
    """The SQL expression k-NN queries order by, matching the index: `<=>` on vector(dim)."""
    _checked("x", dim)
    return f"embedding::vector({dim}) <=> CAST(:q AS vector({dim}))"


def ensure_vector_index(conn: Connection, model_id: str, dim: int) -> None:
    """Create the model's vector index if missing (cheap when it exists; run per new model)."""
    # One creator at a time across processes; IF NOT EXISTS makes the rest no-ops.
    wait_for_lock(conn, AdvisoryLock.VECTOR_INDEX)
    conn.execute(text(vector_index_ddl(model_id, dim)))
