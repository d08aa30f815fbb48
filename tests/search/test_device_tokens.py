"""Device tokens mean one browser: an address that reloads the live guest page for fresh
tokens gets, past FACEPASS_DEVICE_MINT_RATE_LIMIT, one token id again and again, and with it
one browser's search limit."""

from __future__ import annotations

import json
import re
import uuid

import httpx

from facepass.guest.tokens import GuestTokens
from facepass.lab.liveserver import live_server
from tests.search.conftest import SearchWorld

_CONFIG = re.compile(r'<script type="application/json" id="config">(.*?)</script>', re.S)


def _page_token(http: httpx.Client, session_id: uuid.UUID) -> str:
    page = http.get(f"/s/{session_id}")
    assert page.status_code == 200
    match = _CONFIG.search(page.text)
    assert match is not None
    return str(json.loads(match.group(1))["device_token"])


def test_reloading_the_page_for_fresh_tokens_gets_one_browsers_limits(world: SearchWorld) -> None:
    settings = world.settings.model_copy(
        update={
            "redis_key_prefix": f"{world.settings.redis_key_prefix}mint-{uuid.uuid4().hex[:6]}:",
            "device_mint_rate_limit": "3/hour",
            "search_device_rate_limit": "2/minute",
            "search_rate_limit": "1000/minute",
        }
    )
    assert settings.media_signing_key is not None
    tokens = GuestTokens(settings.media_signing_key)
    session = world.main.session_id
    with (
        live_server(settings, run_migrations=False, start_background=False) as url,
        httpx.Client(base_url=url, timeout=120) as http,
    ):
        minted = [_page_token(http, session) for _ in range(8)]
        ids = [tokens.device_id(token) for token in minted]
        assert all(ids)
        assert len(set(ids[:3])) == 3  # a few browsers behind one address: each its own
        assert len(set(ids[3:])) == 1  # then every reload is the same browser
        assert ids[3] not in ids[:3]

        def search(token: str) -> int:
            return http.post(
                f"/api/v1/sessions/{session}/search",
                files=[("selfie", ("selfie.jpg", world.selfie, "image/jpeg"))],
                headers={"X-FacePass-Device": token},
            ).status_code

        assert [search(minted[3]), search(minted[4])] == [200, 200]
        assert search(minted[5]) == 429  # a "fresh" token, the same browser's spent limit
        assert search(minted[0]) == 200  # a genuinely fresh one still has its own
