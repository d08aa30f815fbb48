"""The faces of one session in pgvector, behind the `FaceIndex` of the ranking code.

k-NN queries use the very expression of the model's partial HNSW index
(`embedding::vector(dim) <=> :q`, see facepass.photos.vector_index) so PostgreSQL can use it,
and filter on the session and the model. A session is a small slice of the table, so an HNSW
scan alone would stop early with too few of the session's faces: iterative scans (pgvector 0.8,
`relaxed_order`) keep it going until the limit is met, and small sessions, where PostgreSQL
prefers the btree on (session_id, model_id) and an exact sort, are exact anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger

from facepass.db import vector_from_send
from facepass.engine.types import Embedding
from facepass.photos.vector_index import knn_expression
from facepass.search.ranking import FaceHit

DEFAULT_EF_SEARCH = 100
# Sessions with at most this many faces are scanned exactly (btree on the session, then every
# distance): cheaper than an HNSW walk that must skip the other sessions' faces, and exact.
EXACT_SCAN_MAX_FACES = 20_000
# Most tuples one iterative HNSW scan visits before giving up (bounds the worst case).
MAX_SCAN_TUPLES = 50_000


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form of a vector: '[0.1,0.2,...]'."""
    return "[" + ",".join(f"{float(x):.8g}" for x in vector) + "]"


class PgVectorFaceIndex:
    """The faces of (session, model) in FacePass's own PostgreSQL."""

    def __init__(
        self,
        conn: Connection,
        session_id: uuid.UUID,
        model_id: str,
        dim: int,
        *,
        ef_search: int = DEFAULT_EF_SEARCH,
        exact: bool | None = None,
    ) -> None:
        self._conn = conn
        self._session_id = session_id
        self._model_id = model_id
        self._dim = dim
        if exact is None:
            exact = self._face_count(EXACT_SCAN_MAX_FACES + 1) <= EXACT_SCAN_MAX_FACES
        self.exact = exact
        distance = knn_expression(dim)
        # Embeddings travel in pgvector's binary form (`vector_send`): parsing the text form
        # of a few hundred 256-d vectors cost a search more CPU than everything else it does.
        # `:within` bounds the rows to the search's reach (NULL: no bound); the inner LIMIT
        # keeps the k-NN shape the HNSW index serves.
        self._nearest = text(
            f"""
            SELECT * FROM (
                SELECT id, photo_id, box_left, box_top, box_right, box_bottom, yaw,
                       {distance} AS distance,
                       vector_send(embedding::vector({int(dim)})) AS vector_bytes
                FROM faces
                WHERE session_id = :s AND model_id = :m AND indexable
                ORDER BY {distance}
                LIMIT :k
            ) AS nearest
            WHERE CAST(:within AS float8) IS NULL OR distance <= CAST(:within AS float8)
            ORDER BY distance
            """  # noqa: S608 - `distance` is built from an int by knn_expression
        )
        if exact:
            # MATERIALIZED keeps the planner from walking the HNSW index over other sessions.
            self._nearest = text(
                f"""
                WITH own AS MATERIALIZED (
                    SELECT id, photo_id, box_left, box_top, box_right, box_bottom, yaw,
                           embedding::vector({int(dim)}) AS vector
                    FROM faces
                    WHERE session_id = :s AND model_id = :m AND indexable
                ), measured AS (
                    SELECT *, vector <=> CAST(:q AS vector({int(dim)})) AS distance FROM own
                )
                SELECT id, photo_id, box_left, box_top, box_right, box_bottom, yaw, distance,
                       vector_send(vector) AS vector_bytes
                FROM measured
                WHERE CAST(:within AS float8) IS NULL OR distance <= CAST(:within AS float8)
                ORDER BY distance LIMIT :k
                """  # noqa: S608 - only ints are interpolated
            )
        self._embeddings = text(
            f"SELECT id, vector_send(embedding::vector({int(dim)})) FROM faces"  # noqa: S608
            " WHERE id = ANY(:ids)"
        ).bindparams(bindparam("ids", type_=ARRAY(BigInteger())))
        if not exact:
            self._tune(ef_search)

    def _face_count(self, cap: int) -> int:
        """The session's searchable faces, counted up to `cap` (bounded cost)."""
        counted = self._conn.execute(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM faces WHERE session_id = :s"
                " AND model_id = :m AND indexable LIMIT :cap) AS capped"
            ),
            {"s": self._session_id, "m": self._model_id, "cap": cap},
        ).scalar_one()
        return int(counted)

    def _tune(self, ef_search: int) -> None:
        # Transaction-local: the pooled connection goes back unchanged.
        for name, value in (
            ("hnsw.ef_search", ef_search),
            ("hnsw.iterative_scan", "relaxed_order"),
            ("hnsw.max_scan_tuples", MAX_SCAN_TUPLES),
        ):
            self._conn.execute(
                text("SELECT set_config(:name, :value, true)"),
                {"name": name, "value": str(value)},
            )

    def nearest(self, query: Embedding, limit: int, within: float | None = None) -> list[FaceHit]:
        """Up to `limit` faces of the session nearest the query (at most `within` away)."""
        rows = self._conn.execute(
            self._nearest,
            {
                "q": vector_literal(query),
                "s": self._session_id,
                "m": self._model_id,
                "k": limit,
                "within": within,
            },
        )
        return [
            FaceHit(
                face_id=row.id,
                photo_id=row.photo_id,
                distance=float(row.distance),
                box=(row.box_left, row.box_top, row.box_right, row.box_bottom),
                embedding=vector_from_send(row.vector_bytes),
                yaw=float(row.yaw),
            )
            for row in rows
        ]

    def embeddings(self, face_ids: Sequence[int]) -> dict[int, Embedding]:
        """Stored embeddings of some faces (for query expansion)."""
        if not face_ids:
            return {}
        rows = self._conn.execute(self._embeddings, {"ids": list(face_ids)})
        return {row[0]: vector_from_send(row[1]) for row in rows}
