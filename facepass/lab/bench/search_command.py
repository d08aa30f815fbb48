"""`facepass bench search`: the vector search of `search` and the whole request over HTTP."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import httpx

from facepass.config import get_settings
from facepass.lab.bench import search as bm
from facepass.lab.liveserver import live_server
from facepass.lab.load import generate_load


def _found(response: httpx.Response) -> bool:
    return response.status_code == 200 and bool(response.json()["matches"])


def command(
    faces: list[int],
    queries: int,
    requests: int,
    concurrency: int,
    ef_search: list[int],
    seed: int,
) -> None:
    """`facepass bench search`: p50/p95/p99 of the vector search and of the search request."""
    import numpy as np
    from sqlalchemy import create_engine, text

    from facepass.db import sqlalchemy_url
    from facepass.demo_photos import astronaut_selfie
    from facepass.embedded import PIXORA_DATABASE, embedded_settings
    from facepass.engine import get_engine
    from facepass.search.query import analyze_selfie
    from facepass.search.vector_search import EXACT_SCAN_MAX_FACES

    logging.getLogger("facepass").setLevel(logging.WARNING)
    rng = np.random.default_rng(seed)
    engine = get_engine()
    import io

    buffer = io.BytesIO()
    astronaut_selfie().save(buffer, "JPEG", quality=90)
    selfie = buffer.getvalue()
    selfie_embedding = analyze_selfie(engine, selfie).embedding
    threshold = engine.match_threshold
    sizes = faces
    results: dict[str, Any] = {
        "model_id": engine.model_id,
        "threshold": threshold,
        "cpus": os.cpu_count(),
        "sizes": {},
    }
    base = get_settings().model_copy(update={"database_url": None, "main_app_database_url": None})
    with tempfile.TemporaryDirectory(prefix="facepass-bench-search-") as tmp:
        settings, postgres = embedded_settings(base, Path(tmp))
        assert settings.database_url is not None
        own = create_engine(sqlalchemy_url(settings.database_url), pool_size=4)
        pixora_owner = postgres.admin_url.replace("@/postgres?", f"@/{PIXORA_DATABASE}?")
        pixora = create_engine(sqlalchemy_url(pixora_owner))
        try:
            from facepass.migrations import upgrade

            upgrade(settings.database_url)
            sessions = {}
            bm.drop_index(own, engine.model_id)
            for size in sizes:
                started = time.perf_counter()
                session = bm.make_session(size, engine.embedding_dim, rng, selfie_embedding)
                bm.copy_session(own, session, engine.model_id)
                sessions[size] = session
                results["sizes"][str(size)] = {"load_s": round(time.perf_counter() - started, 1)}
                with pixora.begin() as conn:
                    conn.execute(
                        text(
                            "INSERT INTO photo_sessions (id, name, photographer_id, studio_id,"
                            " facepass_enabled) VALUES (:id, :n, gen_random_uuid(),"
                            " gen_random_uuid(), true)"
                        ),
                        {"id": session.session_id, "n": f"bench {size}"},
                    )
            results["index_build_s"] = round(
                bm.build_index(own, engine.model_id, engine.embedding_dim), 1
            )
            results["total_faces"] = sum(sizes)
            for size, session in sessions.items():
                entry = results["sizes"][str(size)]
                entry["hnsw_plan"] = bm.query_plan(own, session, engine.model_id)
                entry["vector_search"] = {
                    f"hnsw ef_search={ef}": bm.time_vector_search(
                        own, session, engine.model_id, threshold, queries, ef, rng, exact=False
                    )
                    for ef in ef_search
                }
                if size <= EXACT_SCAN_MAX_FACES:  # what the API does for sessions this small
                    entry["vector_search"]["exact"] = bm.time_vector_search(
                        own, session, engine.model_id, threshold, queries, 100, rng, exact=True
                    )
            server_settings = settings.model_copy(
                update={
                    "search_rate_limit": "1000000/minute",
                    "search_session_rate_limit": "1000000/minute",
                    "search_device_rate_limit": "1000000/minute",
                    "redis_url": None,
                }
            )
            with live_server(
                server_settings, child_process=True, start_background=False
            ) as base_url:
                for size, session in sessions.items():
                    url = f"{base_url}/api/v1/sessions/{session.session_id}/search"

                    def send(client: httpx.Client, url: str = url) -> httpx.Response:
                        files = {"selfie": ("selfie.jpg", selfie, "image/jpeg")}
                        return client.post(url, files=files)

                    generate_load(send, _found, 3, 1)  # warm-up: engine, pools, caches
                    one = generate_load(send, _found, requests, 1)
                    many = generate_load(send, _found, requests, concurrency)
                    entry = results["sizes"][str(size)]
                    entry["request_one_guest"] = one.summary()
                    entry[f"request_{concurrency}_guests"] = many.summary()
        finally:
            own.dispose()
            pixora.dispose()
            postgres.stop()
    click.echo(json.dumps(results, indent=2))
