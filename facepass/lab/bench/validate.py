"""`facepass bench validate`: latency and throughput of the validation endpoint over real HTTP.

It starts the embedded default (PostgreSQL 18 with the demo Pixora database) in a temporary
directory, serves the real app with uvicorn in a child process (so the client's work does not
share the server's interpreter lock), and hits `GET /api/v1/sessions/validate/{id}` with httpx,
once with the validation cache on and once with it off (both TTLs 0). Prints JSON.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import click
import httpx

from facepass.config import Settings, get_settings
from facepass.lab.liveserver import wait_until_live

WARMUP_REQUESTS = 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(settings: Settings, port: int) -> None:
    """Child process: the real app under uvicorn, logging as in production (to /dev/null)."""
    import uvicorn

    from facepass.app import create_app
    from facepass.observability.logging import configure_logging

    configure_logging(settings.log_level, json_lines=True)
    for handler in logging.getLogger().handlers:
        if handler.get_name() == "facepass" and isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    app = create_app(settings, start_background=False)
    uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    ).run()


def _hammer(url: str, requests: int, concurrency: int) -> tuple[list[float], float]:
    """Send `requests` GETs from `concurrency` keep-alive clients; latencies in ms and wall s."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_worker = [
        requests // concurrency + (i < requests % concurrency) for i in range(concurrency)
    ]

    def worker(count: int) -> None:
        mine: list[float] = []
        with httpx.Client(timeout=10.0) as client:
            for _ in range(count):
                started = time.perf_counter()
                response = client.get(url)
                mine.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200 or not response.json()["valid"]:
                    raise RuntimeError(f"unexpected answer {response.status_code}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in per_worker]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def _summary(latencies: list[float], wall_s: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests_per_s": round(len(ordered) / wall_s, 1),
        "p50_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(0.90 * (len(ordered) - 1))], 3),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


def _run_mode(settings: Settings, requests: int, concurrency: int) -> dict[str, float]:
    from facepass.pixora.demo import DEMO_SESSION_ID

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    child = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(settings, port), daemon=True
    )
    child.start()
    try:
        wait_until_live(base_url, child)
        url = f"{base_url}/api/v1/sessions/validate/{DEMO_SESSION_ID}"
        _hammer(url, WARMUP_REQUESTS, concurrency)
        return _summary(*_hammer(url, requests, concurrency))
    finally:
        child.terminate()
        child.join(10)


def command(requests: int, concurrency: int) -> None:
    """Requests/s and p50/p99 latency of GET /api/v1/sessions/validate/{id}, cached and not."""
    from facepass.embedded import embedded_settings

    if requests < 1 or concurrency < 1:
        raise click.BadParameter("--requests and --concurrency must be at least 1")
    base = get_settings().model_copy(
        update={"database_url": None, "main_app_database_url": None, "log_level": "INFO"}
    )
    with tempfile.TemporaryDirectory(prefix="facepass-bench-") as tmp:
        settings, postgres = embedded_settings(base, Path(tmp))
        try:
            cache = "redis" if settings.redis_url else "in-process"
            modes = {
                "cached": settings,
                "uncached": settings.model_copy(
                    update={"cache_ttl_s": 0.0, "cache_negative_ttl_s": 0.0}
                ),
            }
            results: dict[str, Any] = {
                "endpoint": "GET /api/v1/sessions/validate/{id}",
                "server": "uvicorn, 1 process, embedded PostgreSQL 18",
                "cache": cache,
                "requests": requests,
                "concurrency": concurrency,
                "cpus": os.cpu_count(),
            }
            for name, mode_settings in modes.items():
                results[name] = _run_mode(mode_settings, requests, concurrency)
        finally:
            postgres.stop()
    click.echo(json.dumps(results, indent=2))
