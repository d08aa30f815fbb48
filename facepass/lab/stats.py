"""The one summary of a sample of latencies every benchmark reports."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


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
