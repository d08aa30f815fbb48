"""`facepass bench search`: the vector search of `search` and the whole request over HTTP."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from facepass.config import Settings, get_settings
from facepass.lab.bench import search as bm
from facepass.lab.bench.search import percentiles
from facepass.lab.liveserver import wait_until_live


def _serve(settings: Settings, port: int) -> None:
    """Child process: the real app under uvicorn (logs discarded, as the timing is the point)."""
    import uvicorn

    from facepass.app import create_app

    logging.disable(logging.INFO)
    app = create_app(settings, start_background=False)
    uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    ).run()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HttpRun:
    """Latencies (ms) seen by guests, the server's own split of them, errors and wall time."""

    latencies: list[float] = field(default_factory=list)
    server: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {**percentiles(self.latencies), "errors": self.errors}
        for stage, values in sorted(self.server.items()):
            out[f"server_{stage}_p50_ms"] = round(statistics.median(values), 1)
        if self.wall_s:
            out["searches_per_s"] = round(len(self.latencies) / self.wall_s, 2)
        return out


def _server_timing(header: str) -> dict[str, float]:
    timings = {}
    for part in header.split(","):
        name, _, duration = part.strip().partition(";dur=")
        if duration:
            timings[name] = float(duration)
    return timings


def _http_searches(url: str, selfie: bytes, requests: int, concurrency: int) -> HttpRun:
    """`requests` searches from `concurrency` guests at once, each on its own connection."""
    import httpx

    run = HttpRun()
    lock = threading.Lock()
    shares = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]

    def guest(count: int) -> None:
        with httpx.Client(timeout=60.0) as client:
            for _ in range(count):
                started = time.perf_counter()
                response = client.post(url, files={"selfie": ("selfie.jpg", selfie, "image/jpeg")})
                elapsed = (time.perf_counter() - started) * 1000
                ok = response.status_code == 200 and bool(response.json()["matches"])
                timing = _server_timing(response.headers.get("server-timing", ""))
                with lock:
                    run.latencies.append(elapsed)
                    run.errors += not ok
                    for stage, value in timing.items():
                        run.server.setdefault(stage, []).append(value)

    threads = [threading.Thread(target=guest, args=(n,)) for n in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.wall_s = time.perf_counter() - started
    return run


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
                    "redis_url": None,
                }
            )
            port = _free_port()
            child = multiprocessing.get_context("spawn").Process(
                target=_serve, args=(server_settings, port), daemon=True
            )
            child.start()
            try:
                wait_until_live(f"http://127.0.0.1:{port}", child)
                for size, session in sessions.items():
                    url = f"http://127.0.0.1:{port}/api/v1/sessions/{session.session_id}/search"
                    _http_searches(url, selfie, 3, 1)  # warm-up: engine, pools, caches
                    one = _http_searches(url, selfie, requests, 1)
                    many = _http_searches(url, selfie, requests, concurrency)
                    entry = results["sizes"][str(size)]
                    entry["request_one_guest"] = one.summary()
                    entry[f"request_{concurrency}_guests"] = many.summary()
            finally:
                child.terminate()
                child.join(10)
        finally:
            own.dispose()
            pixora.dispose()
            postgres.stop()
    click.echo(json.dumps(results, indent=2))
