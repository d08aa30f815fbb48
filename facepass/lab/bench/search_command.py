"""`facepass bench search`: runs the benchmark of `search` and prints its JSON report."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import click
import httpx
import numpy as np
from PIL import Image

from facepass.config import get_settings
from facepass.lab.bench import search as bm
from facepass.lab.eval import retrieval as ev
from facepass.lab.liveserver import live_server
from facepass.lab.load import Check, Send, generate_load

# LFW's faces fill the frame: its photos are analysed at 1/8 of the frame, as `eval lfw` does.
LFW_MIN_FACE_FRACTION = 0.125
SELFIE_SIDE_PX = 1024  # what the guest page sends (web/router.py SELFIE_MAX_SIDE_PX)


def _progress(done: int, total: int) -> None:
    if done % 1000 == 0 or done == total:
        click.echo(f"  embedding LFW: {done}/{total} photos", err=True)


def _selfie_jpeg(path: Path) -> bytes:
    """An LFW photo as the guest page would send it: a 1024 px JPEG."""
    with Image.open(path) as image:
        big = image.convert("RGB").resize(
            (SELFIE_SIDE_PX, SELFIE_SIDE_PX), Image.Resampling.BICUBIC
        )
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def first_people(
    people: dict[str, list[ev.LabelledPhoto]], photos: int
) -> dict[str, list[ev.LabelledPhoto]]:
    """Whole people in name order until `photos` photos (embedding every LFW photo takes long)."""
    chosen: dict[str, list[ev.LabelledPhoto]] = {}
    for name in sorted(people):
        if sum(len(own) for own in chosen.values()) >= photos:
            break
        chosen[name] = people[name]
    return chosen


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def command(
    faces: list[int],
    total_faces: int,
    lfw_photos: int,
    queries: int,
    requests: int,
    concurrency: list[int],
    ef_search: list[int],
    data_dir: Path,
    cache_dir: Path,
    seed: int,
) -> None:
    """`facepass bench search`: vector search (exact and HNSW) and the request over HTTP."""
    from sqlalchemy import create_engine, text

    from facepass.db import sqlalchemy_url
    from facepass.embedded import PIXORA_DATABASE, embedded_settings
    from facepass.engine import FaceEngine
    from facepass.engine_config import engine_config
    from facepass.migrations import upgrade
    from facepass.search.vector_search import EXACT_SCAN_MAX_FACES

    if not (data_dir / "lfw").is_dir():
        raise click.ClickException(f"no lfw/ under {data_dir} (see ../shared/data/README.md)")
    logging.getLogger("facepass").setLevel(logging.WARNING)
    config = engine_config(get_settings())
    engine = FaceEngine.load(dataclasses.replace(config, min_face_fraction=LFW_MIN_FACE_FRACTION))
    cache = ev.AnalysisCache(cache_dir, engine)
    people = first_people(ev.labelled_photos(data_dir), lfw_photos)
    photos = [photo for own in people.values() for photo in own]
    ev.warm_cache(cache, [p.path for p in photos], _progress)
    pool = bm.FacePool.of(cache, photos)
    rng = np.random.default_rng(seed)
    targets = {
        size: bm.target_session(cache, people, pool, size, rng, seed + n)
        for n, size in enumerate(faces)
    }
    distractor_faces = max(0, total_faces - sum(faces))
    threshold = engine.match_threshold
    results: dict[str, Any] = {
        "model_id": engine.model_id,
        "threshold": threshold,
        "cpus": os.cpu_count(),
        "load_average_before": _load_average(),
        "faces_data": "LFW (engine embeddings, cached); filler and distractors are perturbed"
        " copies of LFW faces (see facepass/lab/bench/search.py)",
        "lfw_photos": len(photos),
        "lfw_people": len(people),
        "lfw_faces": len(pool.people),
        "total_faces": sum(faces) + distractor_faces,
        "distractor_faces": distractor_faces,
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
            upgrade(settings.database_url)
            bm.drop_index(own, engine.model_id)
            started = time.perf_counter()
            for session in [
                *targets.values(),
                *bm.distractor_sessions(pool, distractor_faces, rng),
            ]:
                bm.copy_session(own, session, engine.model_id)
            results["load_s"] = round(time.perf_counter() - started, 1)
            results["index_build_s"] = round(
                bm.build_index(own, engine.model_id, engine.embedding_dim), 1
            )
            for size, session in targets.items():
                with pixora.begin() as conn:
                    conn.execute(
                        text(
                            "INSERT INTO photo_sessions (id, name, photographer_id, studio_id,"
                            " facepass_enabled) VALUES (:id, :n, gen_random_uuid(),"
                            " gen_random_uuid(), true)"
                        ),
                        {"id": session.session_id, "n": f"bench {size}"},
                    )
                results["sizes"][str(size)] = {
                    "faces": session.faces,
                    "labelled_lfw_faces": session.labelled_faces,
                    "guests_with_a_selfie": len(session.queries),
                    "api_path": "exact" if session.faces <= EXACT_SCAN_MAX_FACES else "hnsw",
                    "planner_path_of_plain_knn": bm.query_plan(own, session, engine.model_id),
                    "vector_search": bm.measure_vector_search(
                        own, session, engine.model_id, threshold, queries, ef_search
                    ),
                }
                click.echo(f"  vector search measured on the session of {size}", err=True)
            _http(settings, targets, results, requests, concurrency)
        finally:
            own.dispose()
            pixora.dispose()
            postgres.stop()
    results["load_average_after"] = _load_average()
    click.echo(json.dumps(results, indent=2))


def _http(
    settings: Any,
    targets: dict[int, bm.BenchSession],
    results: dict[str, Any],
    requests: int,
    concurrency: list[int],
) -> None:
    """The whole search request against the real app (uvicorn in a child process)."""
    server_settings = settings.model_copy(
        update={
            "search_rate_limit": "1000000/minute",
            "search_session_rate_limit": "1000000/minute",
            "search_device_rate_limit": "1000000/minute",
            "redis_url": None,
        }
    )
    with live_server(server_settings, child_process=True, start_background=False) as base_url:
        for size, session in targets.items():
            selfies = [_selfie_jpeg(q.selfie) for q in session.queries[: min(requests, 200)]]
            url = f"{base_url}/api/v1/sessions/{session.session_id}/search"
            for guests in concurrency:
                generate_load(*_Guests(url, selfies).send_and_check(), min(10, requests), 1)
                run_guests = _Guests(url, selfies)
                run = generate_load(*run_guests.send_and_check(), requests, guests)
                summary = run.summary()
                summary["answers_with_matches"] = round(run_guests.matched / max(1, requests), 4)
                summary["distinct_selfies"] = len(selfies)
                results["sizes"][str(size)][f"request_{guests}_guests"] = summary
                click.echo(f"  {requests} requests by {guests} guests on {size}", err=True)


class _Guests:
    """Guests posting the session's selfies in turn; counts answers that found photos."""

    def __init__(self, url: str, selfies: list[bytes]) -> None:
        self.url = url
        self.selfies = selfies
        self.matched = 0
        self._turn = 0
        self._lock = threading.Lock()

    def send(self, client: httpx.Client) -> httpx.Response:
        with self._lock:
            selfie = self.selfies[self._turn % len(self.selfies)]
            self._turn += 1
        return client.post(self.url, files={"selfie": ("selfie.jpg", selfie, "image/jpeg")})

    def ok(self, response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        with self._lock:
            self.matched += bool(response.json()["matches"])
        return True

    def send_and_check(self) -> tuple[Send, Check]:
        return self.send, self.ok
