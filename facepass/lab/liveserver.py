"""Waiting for a benchmark's server process: shared by the benchmarks that run one."""

from __future__ import annotations

import time
from typing import Any

import click
import httpx


def wait_until_live(base_url: str, child: Any, timeout_s: float = 120.0) -> None:
    """Return once `base_url` answers /health/live; fail if `child` dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and child.is_alive():
        try:
            if httpx.get(f"{base_url}/health/live", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise click.ClickException("the benchmark server did not start")
