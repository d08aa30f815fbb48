"""The one summary of a sample of latencies every benchmark reports, and the one peak-memory
reading."""

from __future__ import annotations

import math
import resource
import statistics
from collections.abc import Sequence
from pathlib import Path


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sample: a value some request really took."""
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def percentiles(values_ms: Sequence[float], digits: int = 2) -> dict[str, float]:
    """p50/p90/p95/p99, mean and the sample size `n` of latencies in milliseconds."""
    ordered = sorted(values_ms)
    summary: dict[str, float] = {
        f"p{q}_ms": round(percentile(ordered, q / 100), digits) for q in (50, 90, 95, 99)
    }
    summary["mean_ms"] = round(statistics.fmean(ordered), digits)
    summary["n"] = len(ordered)
    return summary


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM (Linux) starts afresh with the process's
    image; ru_maxrss would carry over the parent's peak across the spawn's exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
