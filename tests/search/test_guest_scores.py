"""Guests see matches, not scores: a live server's anonymous search, recheck and results
answers carry no similarity, distance or threshold; an admin bearer's do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from facepass.lab.liveserver import live_server
from tests.conftest import ADMIN_TOKEN
from tests.search.conftest import SearchWorld

SCORES = {"similarity", "distance"}


@pytest.fixture(scope="module")
def http(world: SearchWorld) -> Iterator[httpx.Client]:
    with (
        live_server(world.settings, run_migrations=False, start_background=False) as url,
        httpx.Client(base_url=url, timeout=120) as client,
    ):
        yield client


def _search(http: httpx.Client, world: SearchWorld, headers: dict[str, str]) -> dict[str, Any]:
    answer = http.post(
        f"/api/v1/sessions/{world.main.session_id}/search",
        files=[("selfie", ("selfie.jpg", world.selfie, "image/jpeg"))],
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _has_no_scores(body: dict[str, Any]) -> bool:
    return "threshold" not in body and all(not SCORES & set(m) for m in body["matches"])


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-the-admin-token"}, {"Authorization": "Basic abc"}],
    ids=["anonymous", "wrong-bearer", "other-scheme"],
)
def test_a_guest_sees_matches_not_scores(
    http: httpx.Client, world: SearchWorld, headers: dict[str, str]
) -> None:
    body = _search(http, world, headers)
    assert body["matches"]
    assert _has_no_scores(body)
    recheck = http.post(
        f"/api/v1/sessions/{world.main.session_id}/recheck",
        json={"query_token": body["query_token"]},
        headers=headers,
    )
    assert recheck.status_code == 200, recheck.text
    assert recheck.json()["matches"]
    assert _has_no_scores(recheck.json())
    results = http.get(
        f"/api/v1/sessions/{world.main.session_id}/results",
        params={"token": body["results_token"]},
    )
    assert results.status_code == 200
    assert _has_no_scores(results.json())


def test_an_admin_bearer_sees_the_scores(http: httpx.Client, world: SearchWorld) -> None:
    body = _search(http, world, {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert 0 < body["threshold"] < 2
    assert all(0 <= m["distance"] <= body["threshold"] for m in body["matches"])
    assert all(abs(m["similarity"] + m["distance"] - 1) < 1e-3 for m in body["matches"])
