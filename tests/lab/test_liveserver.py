"""The lab's live server, load generator and percentiles, on the real app."""

from __future__ import annotations

import httpx
import pytest

from facepass.config import Settings
from facepass.lab.liveserver import ServerDidNotStart, live_server, wait_until_live
from facepass.lab.load import generate_load, server_timing
from facepass.lab.stats import percentile, percentiles


def test_percentiles_are_nearest_rank_values_of_the_sample() -> None:
    sample = [float(v) for v in range(100, 0, -1)]  # 100 .. 1, unordered on purpose
    summary = percentiles(sample)
    assert summary == {
        "p50_ms": 50.0,
        "p90_ms": 90.0,
        "p95_ms": 95.0,
        "p99_ms": 99.0,
        "mean_ms": 50.5,
        "n": 100,
    }
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 0.5)


def test_server_timing_header_is_split_into_stages() -> None:
    assert server_timing("db;dur=1.5, embed;dur=30, cache") == {"db": 1.5, "embed": 30.0}


@pytest.mark.parametrize("child_process", [False, True], ids=["thread", "child-process"])
def test_load_on_a_live_server_counts_every_request_and_each_bad_answer(
    settings: Settings, child_process: bool
) -> None:
    with live_server(settings, child_process=child_process, start_background=False) as url:

        def live(client: httpx.Client) -> httpx.Response:
            return client.get(f"{url}/health/live")

        def missing(client: httpx.Client) -> httpx.Response:
            return client.get(f"{url}/no-such-page")

        good = generate_load(live, lambda r: r.status_code == 200, 25, 4)
        bad = generate_load(missing, lambda r: r.status_code == 200, 6, 2)
    assert len(good.latencies_ms) == 25
    assert good.errors == 0
    assert good.summary()["n"] == 25
    assert good.summary()["requests_per_s"] > 0
    assert len(bad.latencies_ms) == 6
    assert bad.errors == 6
    assert bad.summary()["statuses"] == {"404": 6}
    assert good.summary()["statuses"] == {"200": 25}
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health/live", timeout=1.0)  # stopped with the block


def test_waiting_for_a_dead_server_fails_at_once() -> None:
    with pytest.raises(ServerDidNotStart):
        wait_until_live("http://127.0.0.1:9", lambda: False, timeout_s=30)
