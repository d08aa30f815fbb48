"""Exact scans (small sessions) and HNSW walks (large ones) find the same faces."""

from __future__ import annotations

from facepass.composition.context import AppContext
from facepass.engine import get_engine
from facepass.search.query import analyze_selfie
from facepass.search.ranking import RankingParams, rank_photos
from facepass.search.vector_search import PgVectorFaceIndex
from tests.search.conftest import SearchWorld


def test_exact_and_hnsw_paths_agree(world: SearchWorld) -> None:
    engine = get_engine()
    query = analyze_selfie(engine, world.selfie).embedding
    params = RankingParams(threshold=engine.match_threshold)
    app_context = AppContext.build(world.settings)
    found = {}
    try:
        for exact in (True, False):
            with app_context.own_db.engine.begin() as conn:
                index = PgVectorFaceIndex(
                    conn, world.main.session_id, engine.model_id, engine.embedding_dim, exact=exact
                )
                found[exact] = {h.photo_id for h in rank_photos(index, [query], params)}
        with app_context.own_db.engine.begin() as conn:
            chosen = PgVectorFaceIndex(
                conn, world.main.session_id, engine.model_id, engine.embedding_dim
            )
            assert chosen.exact  # a dozen faces: scanned exactly
    finally:
        app_context.close()
    assert found[True] == found[False] == world.main.astronaut_photos
