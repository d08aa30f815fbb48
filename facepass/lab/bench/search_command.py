"""`facepass bench search`: runs the benchmark of `search` and prints its JSON report."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
import httpx
import numpy as np
import psutil
from PIL import Image

from facepass.config import get_settings
from facepass.lab.bench import search as bm
from facepass.lab.eval import retrieval as ev
from facepass.lab.liveserver import live_server
from facepass.lab.load import Check, Send, generate_load

# LFW's faces fill the frame: its photos are analysed at 1/8 of the frame, as `eval lfw` does.
LFW_MIN_FACE_FRACTION = 0.125
SELFIE_SIDE_PX = 1024  # what the guest page sends (web/router.py SELFIE_MAX_SIDE_PX)
SELFIE_SIDES_PX = (SELFIE_SIDE_PX, 512)  # the stage profile's selfies: the page's, and smaller


def _progress(done: int, total: int) -> None:
    if done % 1000 == 0 or done == total:
        click.echo(f"  embedding LFW: {done}/{total} photos", err=True)


def _selfie_jpeg(path: Path, side: int = SELFIE_SIDE_PX) -> bytes:
    """An LFW photo as the guest page would send it: a 1024 px JPEG (or `side` px)."""
    with Image.open(path) as image:
        big = image.convert("RGB").resize((side, side), Image.Resampling.BICUBIC)
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
    api_processes: list[int] | None = None,
    profile_requests: int = 20,
) -> None:
    """`facepass bench search`: vector search (exact and HNSW) and the request over HTTP."""
    from sqlalchemy import create_engine, text

    from facepass.db import sqlalchemy_url
    from facepass.embedded import PIXORA_DATABASE, embedded_settings
    from facepass.engine import FaceEngine
    from facepass.engine_config import engine_config
    from facepass.migrations import upgrade
    from facepass.search.ranking import RankingParams
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
    # As the API ranks (facepass.search.service.ranking_params, default settings).
    ranking = RankingParams(
        threshold=threshold, max_faces=2 * get_settings().search_max_results
    ).with_factors(engine.ranking_factors)
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
                        own, session, engine.model_id, ranking, queries, ef_search
                    ),
                }
                click.echo(f"  vector search measured on the session of {size}", err=True)
            _http(
                settings,
                targets,
                results,
                requests,
                concurrency,
                api_processes or [1],
                profile_requests,
            )
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
    api_processes: list[int],
    profile_requests: int,
) -> None:
    """The whole search request against the real app: first its stage profile, one search at
    a time (one selfie and three, the page's 1024 px and a 512 px selfie), then guests at once
    against 1 and 2 API processes (uvicorn child processes; the client takes turns between
    them, as a load balancer would)."""
    server_settings = settings.model_copy(
        update={
            "search_rate_limit": "1000000/minute",
            "search_session_rate_limit": "1000000/minute",
            "search_device_rate_limit": "1000000/minute",
            # Guests' gallery selfies, as the earlier figures measured: a live pair adds a
            # second capture at the guest's pace (and its cost is the pair's, measured apart).
            "selfie_policy_default": "live_or_gallery",
            "redis_url": None,
        }
    )
    for processes in api_processes:
        with ExitStack() as stack:
            own = server_settings.model_copy(update={"api_processes": processes})
            urls, servers = [], []
            for _ in range(processes):
                before = {child.pid for child in psutil.Process().children()}
                urls.append(
                    stack.enter_context(
                        live_server(own, child_process=True, start_background=False)
                    )
                )
                servers += [
                    child
                    for child in psutil.Process().children()
                    if child.pid not in before and "resource_tracker" not in child.cmdline()[-1]
                ]
            for size, session in targets.items():
                entry = results["sizes"][str(size)]
                lfw = session.queries[: min(requests, 200)]
                selfies = [_selfie_jpeg(q.selfie) for q in lfw]
                paths = [f"{url}/api/v1/sessions/{session.session_id}/search" for url in urls]
                if processes == api_processes[0]:
                    entry["stage_profile"] = _profiles(paths[0], lfw, servers[:1], profile_requests)
                    click.echo(f"  stage profile on {size}", err=True)
                for guests in concurrency:
                    generate_load(*_Guests(paths, selfies).send_and_check(), min(10, requests), 1)
                    run_guests = _Guests(paths, selfies)
                    cpu_before = _cpu_s(servers)
                    run = generate_load(*run_guests.send_and_check(), requests, guests)
                    summary = run.summary()
                    summary["api_processes"] = processes
                    summary["server_cpu_ms_per_search"] = round(
                        1000 * (_cpu_s(servers) - cpu_before) / max(1, requests), 1
                    )
                    summary["answers_with_matches"] = round(
                        run_guests.matched / max(1, requests), 4
                    )
                    summary["distinct_selfies"] = len(selfies)
                    summary["load_average_after"] = _load_average()
                    key = f"request_{guests}_guests"
                    entry[key if processes == 1 else f"{key}_{processes}_api_processes"] = summary
                    click.echo(
                        f"  {requests} requests by {guests} guests on {size},"
                        f" {processes} API process(es)",
                        err=True,
                    )


def _cpu_s(servers: list[psutil.Process]) -> float:
    """CPU seconds (user + system, every thread) the API processes have used so far."""
    total = 0.0
    for server in servers:
        times = server.cpu_times()
        total += times.user + times.system
    return total


def _profiles(
    url: str, queries: list[bm.Query], servers: list[psutil.Process], count: int
) -> dict[str, Any]:
    """Median wall and CPU ms per stage of `count` searches one at a time (idle server), and
    the API process's own CPU per search (everything: HTTP, form, engine, database client)."""
    report: dict[str, Any] = {}
    for side in SELFIE_SIDES_PX:
        for per_search in (1, 3):
            selfies = [_selfie_jpeg(q.selfie, side) for q in queries[: count + per_search]]
            turns = _Guests([url], selfies, per_search)
            generate_load(*turns.send_and_check(), 3, 1)  # warm
            cpu_before = _cpu_s(servers)
            run = generate_load(*turns.send_and_check(), count, 1)
            cpu = 1000 * (_cpu_s(servers) - cpu_before) / max(1, count)
            stages = {
                name: round(statistics.median(values), 1)
                for name, values in sorted(run.server_ms.items())
            }
            report[f"{per_search}_selfie{'s' if per_search > 1 else ''}_{side}px"] = {
                "searches": count,
                "statuses": dict(run.statuses),
                "client_p50_ms": round(statistics.median(run.latencies_ms), 1),
                "api_process_cpu_ms_per_search": round(cpu, 1),
                "stage_wall_ms_p50": {k: v for k, v in stages.items() if not k.startswith("cpu")},
                "stage_cpu_ms_p50": {
                    k.removeprefix("cpu-"): v for k, v in stages.items() if k.startswith("cpu")
                },
                "load_average": _load_average(),
            }
    return report


class _Guests:
    """Guests posting the session's selfies in turn (`per_search` at once), to the API
    processes in turn; counts answers that found photos."""

    def __init__(self, urls: list[str], selfies: list[bytes], per_search: int = 1) -> None:
        self.urls = urls
        self.selfies = selfies
        self.per_search = per_search
        self.matched = 0
        self._turn = 0
        self._lock = threading.Lock()

    def send(self, client: httpx.Client) -> httpx.Response:
        with self._lock:
            turn = self._turn
            self._turn += 1
        chosen = [self.selfies[(turn + i) % len(self.selfies)] for i in range(self.per_search)]
        files = [
            ("selfie", (f"selfie-{i}.jpg", data, "image/jpeg")) for i, data in enumerate(chosen)
        ]
        return client.post(self.urls[turn % len(self.urls)], files=files)

    def ok(self, response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        with self._lock:
            self.matched += bool(response.json()["matches"])
        return True

    def send_and_check(self) -> tuple[Send, Check]:
        return self.send, self.ok
