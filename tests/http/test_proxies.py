"""X-Forwarded-For is believed only from FACEPASS_FORWARDED_ALLOW_IPS (issue 12, item 8)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from facepass.config import Settings
from facepass.lab.liveserver import live_server


def _download_statuses(base_url: str, forwarded_for: list[str]) -> list[int]:
    url = f"{base_url}/api/v1/sessions/{uuid.uuid4()}/download"
    return [
        httpx.post(url, json={"tokens": []}, headers={"X-Forwarded-For": ip}).status_code
        for ip in forwarded_for
    ]


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [(None, [422, 429, 429]), ("127.0.0.1", [422, 422, 429])],
)
def test_forwarded_addresses_count_only_from_trusted_proxies(
    settings: Settings, trusted: str | None, expected: list[int]
) -> None:
    # One download a minute per address: who the client is decides the second answer.
    settings = settings.model_copy(
        update={"download_rate_limit": "1/minute", "forwarded_allow_ips": trusted}
    )
    with live_server(settings, start_background=False) as base_url:
        assert _download_statuses(base_url, ["10.0.0.1", "10.0.0.2", "10.0.0.2"]) == expected
