"""The load generator: N concurrent clients, each on its own keep-alive connection."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from facepass.lab.stats import percentiles

Send = Callable[[httpx.Client], httpx.Response]
Check = Callable[[httpx.Response], bool]


@dataclass
class LoadRun:
    """Latencies (ms) the clients saw, the server's own split of them, errors and wall time."""

    latencies_ms: list[float] = field(default_factory=list)
    server_ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)  # HTTP status, or the error's type
    errors: int = 0
    wall_s: float = 0.0

    def summary(self, digits: int = 2) -> dict[str, Any]:
        """Percentiles, errors, requests per second and the server's median per stage."""
        out: dict[str, Any] = {**percentiles(self.latencies_ms, digits), "errors": self.errors}
        out["statuses"] = dict(sorted(self.statuses.items()))
        out["requests_per_s"] = round(len(self.latencies_ms) / self.wall_s, 2)
        for stage, values in sorted(self.server_ms.items()):
            out[f"server_{stage}_p50_ms"] = round(statistics.median(values), 1)
        return out


def server_timing(header: str) -> dict[str, float]:
    """The stages of a Server-Timing header, in ms: 'db;dur=1.2, embed;dur=30' -> {...}."""
    timings = {}
    for part in header.split(","):
        name, _, duration = part.strip().partition(";dur=")
        if duration:
            timings[name] = float(duration)
    return timings


def generate_load(
    send: Send, check: Check, requests: int, concurrency: int, timeout_s: float = 60.0
) -> LoadRun:
    """Send `requests` requests from `concurrency` clients at once; `check` tells a good answer."""
    run = LoadRun()
    lock = threading.Lock()
    shares = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]

    def client_loop(count: int) -> None:
        with httpx.Client(timeout=timeout_s) as client:
            for _ in range(count):
                started = time.perf_counter()
                try:
                    response = send(client)
                except httpx.HTTPError as exc:
                    elapsed, ok, timing = (time.perf_counter() - started) * 1000, False, {}
                    status = type(exc).__name__
                else:
                    elapsed = (time.perf_counter() - started) * 1000
                    ok = check(response)
                    timing = server_timing(response.headers.get("server-timing", ""))
                    status = str(response.status_code)
                with lock:
                    run.latencies_ms.append(elapsed)
                    run.statuses[status] += 1
                    run.errors += not ok
                    for stage, value in timing.items():
                        run.server_ms.setdefault(stage, []).append(value)

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in shares if n]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.wall_s = time.perf_counter() - started
    return run
