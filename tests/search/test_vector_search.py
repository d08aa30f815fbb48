"""Exact scans (small sessions) and HNSW walks (large ones) find the same faces."""

from __future__ import annotations

import numpy as np
from sqlalchemy import text

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


def test_nearest_sends_the_stored_embeddings_and_keeps_to_its_reach(world: SearchWorld) -> None:
    engine = get_engine()
    query = analyze_selfie(engine, world.selfie).embedding
    app_context = AppContext.build(world.settings)
    try:
        for exact in (True, False):
            with app_context.own_db.engine.begin() as conn:
                index = PgVectorFaceIndex(
                    conn, world.main.session_id, engine.model_id, engine.embedding_dim, exact=exact
                )
                every = index.nearest(query, 100)
                assert len(every) >= 3
                # The binary form carries the very floats stored: its text form, parsed, agrees.
                stored = conn.execute(
                    text("SELECT id, embedding::text FROM faces WHERE id = ANY(:ids)"),
                    {"ids": [hit.face_id for hit in every]},
                ).all()
                as_text = {
                    face_id: np.array(value.strip("[]").split(","), np.float32)
                    for face_id, value in stored
                }
                for hit in every:
                    assert hit.embedding is not None
                    assert hit.embedding.dtype == np.float32
                    np.testing.assert_array_equal(hit.embedding, as_text[hit.face_id])
                assert index.embeddings([every[0].face_id])[every[0].face_id].tolist() == (
                    as_text[every[0].face_id].tolist()
                )
                # A reach between two faces' distances sends the nearer ones only, in order.
                reach = (every[1].distance + every[2].distance) / 2
                within = index.nearest(query, 100, within=reach)
                assert [h.face_id for h in within] == [h.face_id for h in every[:2]] or (
                    every[1].distance == every[2].distance
                )
    finally:
        app_context.close()
