"""`facepass eval retrieval` and `facepass bench search`: accuracy and speed of selfie search."""

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

from facepass.cli.groups import bench_group, eval_group
from facepass.cli.liveserver import wait_until_live
from facepass.config import Settings, get_settings

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
# Strategies whose result depends on the threshold beyond a cut-off run once per point: fewer.
COARSE_GRID = (0.04, 0.05, 0.055, 0.06, 0.065, 0.07, 0.08, 0.09)


def _int_list(value: str) -> list[int]:
    try:
        return [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {value!r}") from None


def _embedded(tmp: Path) -> Any:
    from facepass.embedded import start_embedded_postgres
    from facepass.migrations import upgrade

    postgres = start_embedded_postgres(tmp)
    upgrade(postgres.own_url)
    return postgres


# ---- eval retrieval ---------------------------------------------------------------------------


@eval_group.command("retrieval")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="Folder holding lfw/ and peers/ (../shared/data).",
)
@click.option("--sizes", default="2000", show_default=True, help="Session sizes (photos).")
@click.option("--min-photos", type=int, default=8, show_default=True)
@click.option("--max-per-person", type=int, default=20, show_default=True)
@click.option(
    "--strategies",
    default="1-selfie,3-mean,3-union,1-selfie+qe,1-selfie+cc,2-mean+cc,3-mean+cc",
    show_default=True,
    help="Comma list of N-selfie|N-mean|N-union, optionally +qe (query expansion) and +cc"
    " (consensus of the session's faces, the API's default).",
)
@click.option("--threshold", type=float, default=None, help="Default: the model's own.")
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".facepass-data/eval-cache"),
    show_default=True,
    help="Where face analyses are cached between runs.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def eval_retrieval(
    data_dir: Path,
    sizes: str,
    min_photos: int,
    max_per_person: int,
    strategies: str,
    threshold: float | None,
    cache_dir: Path,
    seed: int,
    as_json: bool,
) -> None:
    """Precision and recall of selfie search in sessions of real labelled photos."""
    from facepass.engine import get_engine
    from facepass.engine_config import engine_config
    from facepass.search import evaluation as ev

    if not (data_dir / "lfw").is_dir():
        raise click.ClickException(f"no lfw/ under {data_dir} (see ../shared/data/README.md)")
    logging.getLogger("facepass").setLevel(logging.WARNING)
    engine = get_engine(engine_config(get_settings()))
    default_threshold = threshold if threshold is not None else engine.match_threshold
    cache = ev.AnalysisCache(cache_dir, engine)
    people = ev.labelled_photos(data_dir)
    plans = [_strategy(s) for s in strategies.split(",") if s.strip()]
    grid = [round(0.03 + 0.005 * i, 4) for i in range(25)]  # 0.03 .. 0.15
    grid = sorted({*grid, round(default_threshold, 4)})
    report: dict[str, Any] = {
        "model_id": engine.model_id,
        "default_threshold": default_threshold,
        "min_photos": min_photos,
        "max_per_person": max_per_person,
        "sessions": [],
    }
    with tempfile.TemporaryDirectory(prefix="facepass-eval-") as tmp:
        postgres = _embedded(Path(tmp))
        from facepass.db import OwnDatabase

        own = OwnDatabase(postgres.own_url)
        try:
            for size in _int_list(sizes):
                session = ev.build_session(
                    people,
                    size,
                    selfies_per_person=3,
                    min_photos=min_photos,
                    max_per_person=max_per_person,
                    seed=seed,
                )
                paths = [p.path for p in session.photos]
                paths += [p.path for selfies in session.selfies.values() for p in selfies]
                ev.warm_cache(cache, paths, _progress(f"embedding session of {size}", as_json))
                with own.engine.begin() as conn:
                    photo_ids = ev.load_session(conn, cache, session)
                    from facepass.photos.vector_index import ensure_vector_index

                    ensure_vector_index(conn, engine.model_id, engine.embedding_dim)
                entry: dict[str, Any] = {
                    "photos": session.size,
                    "people": session.people,
                    "strategies": {},
                }
                for plan in plans:
                    entry["strategies"][plan.name] = _evaluate(
                        own, cache, session, photo_ids, plan, default_threshold, grid
                    )
                report["sessions"].append(entry)
                _print_session(entry, default_threshold, err=as_json)
        finally:
            own.dispose()
            postgres.stop()
    if as_json:
        click.echo(json.dumps(report, indent=2))


def _strategy(spec: str) -> Any:
    from facepass.search.evaluation import Strategy

    name = spec.strip()
    base, *extras = name.split("+")
    count, _, mode = base.partition("-")
    return Strategy(
        name=name,
        selfies=int(count),
        combine="union" if mode == "union" else "mean",
        expansion="qe" in extras,
        consensus="cc" in extras,
    )


def _evaluate(
    own: Any, cache: Any, session: Any, photo_ids: Any, plan: Any, default: float, grid: list[float]
) -> dict[str, Any]:
    from facepass.search import evaluation as ev

    started = time.perf_counter()
    if plan.expansion or plan.consensus:
        # These depend on the threshold beyond a cut-off: one run per point.
        points = []
        for threshold in sorted({*COARSE_GRID, round(default, 4)}):
            with own.engine.begin() as conn:
                runs = ev.run_queries(conn, cache, session, photo_ids, plan, threshold)
            points.extend(ev.curve(runs, [threshold]))
    else:
        with own.engine.begin() as conn:
            runs = ev.run_queries(conn, cache, session, photo_ids, plan, max(grid))
        points = ev.curve(runs, grid)
    at_default = min(points, key=lambda p: abs(p.threshold - default))
    best = ev.best_recall_at_precision(points, 0.99)
    return {
        "at_default": _point(at_default),
        "best_recall_at_precision_0.99": _point(best) if best else None,
        "curve": [_point(p) for p in points],
        "seconds": round(time.perf_counter() - started, 1),
    }


def _point(point: Any) -> dict[str, float]:
    return {
        "threshold": point.threshold,
        "precision": round(point.precision, 4),
        "recall": round(point.recall, 4),
        "found": point.found,
    }


def _progress(label: str, quiet: bool) -> Any:
    def report(done: int, total: int) -> None:
        if not quiet and (done % 250 == 0 or done == total):
            click.echo(f"  {label}: {done}/{total} photos analysed", err=True)

    return report


def _print_session(entry: dict[str, Any], default: float, *, err: bool = False) -> None:
    def echo(line: str) -> None:
        click.echo(line, err=err)

    echo(f"\nSession of {entry['photos']} photos, {entry['people']} people")
    echo(f"{'strategy':<14} {'P@default':>9} {'R@default':>9}   best recall at P>=0.99")
    for name, result in entry["strategies"].items():
        d = result["at_default"]
        b = result["best_recall_at_precision_0.99"]
        best = f"R={b['recall']:.3f} (t={b['threshold']})" if b else "-"
        echo(f"{name:<14} {d['precision']:>9.3f} {d['recall']:>9.3f}   {best}")
    for name, result in entry["strategies"].items():
        echo(f"Precision-recall curve of {name} (cosine threshold; * = default):")
        echo(
            "  "
            + "  ".join(
                f"{p['threshold']:.3f}{'*' if abs(p['threshold'] - default) < 1e-9 else ''}:"
                f"P={p['precision']:.3f}/R={p['recall']:.3f}"
                for p in result["curve"]
            )
        )


# ---- bench search -----------------------------------------------------------------------------


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
        from facepass.search.benchmark import percentiles

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


@bench_group.command("search")
@click.option("--faces", default="10000,100000", show_default=True, help="Session sizes (faces).")
@click.option(
    "--queries", type=int, default=200, show_default=True, help="Vector searches per size."
)
@click.option("--requests", "requests", type=int, default=40, show_default=True)
@click.option("--concurrency", type=int, default=20, show_default=True, help="Guests at once.")
@click.option("--ef-search", default="40,100,200", show_default=True, help="hnsw.ef_search values.")
@click.option("--seed", type=int, default=0, show_default=True)
def bench_search(
    faces: str, queries: int, requests: int, concurrency: int, ef_search: str, seed: int
) -> None:
    """p50/p95/p99 of the vector search and of the whole search request over HTTP (JSON)."""
    import numpy as np
    from sqlalchemy import create_engine, text

    from facepass.db import sqlalchemy_url
    from facepass.demo_photos import astronaut_selfie
    from facepass.embedded import PIXORA_DATABASE, embedded_settings
    from facepass.engine import get_engine
    from facepass.search import benchmark as bm
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
    sizes = _int_list(faces)
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
                    for ef in _int_list(ef_search)
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
