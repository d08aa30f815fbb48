"""`facepass bench validate`: latency and throughput of the validation endpoint over real HTTP.

It starts the embedded default (PostgreSQL 18 with the demo Pixora database) in a temporary
directory, serves the real app with uvicorn in a child process (so the client's work does not
share the server's interpreter lock), and hits `GET /api/v1/sessions/validate/{id}` with httpx,
once with the validation cache on and once with it off (both TTLs 0). Prints JSON.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click
import httpx

from facepass.config import Settings, get_settings
from facepass.lab.liveserver import live_server
from facepass.lab.load import generate_load

WARMUP_REQUESTS = 200


def _valid(response: httpx.Response) -> bool:
    return response.status_code == 200 and bool(response.json()["valid"])


def _run_mode(settings: Settings, requests: int, concurrency: int) -> dict[str, Any]:
    from facepass.pixora.demo import DEMO_SESSION_ID

    with live_server(settings, child_process=True, start_background=False) as base_url:
        url = f"{base_url}/api/v1/sessions/validate/{DEMO_SESSION_ID}"

        def send(client: httpx.Client) -> httpx.Response:
            return client.get(url)

        generate_load(send, _valid, WARMUP_REQUESTS, concurrency, timeout_s=10.0)
        return generate_load(send, _valid, requests, concurrency, timeout_s=10.0).summary(3)


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
                "load_average_before": [round(x, 2) for x in os.getloadavg()],
            }
            for name, mode_settings in modes.items():
                results[name] = _run_mode(mode_settings, requests, concurrency)
            results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        finally:
            postgres.stop()
    click.echo(json.dumps(results, indent=2))
