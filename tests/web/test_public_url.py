"""The guest URL a QR code and the poster print, against a live server: FACEPASS_PUBLIC_BASE_URL
(required in production) whatever the Host header says; in development a bounded Host; QR
sizes bounded; the poster cached privately only; branding colours validated whole."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
import zxingcpp
from PIL import Image

from facepass.config import ConfigError, Settings
from facepass.lab.liveserver import live_server
from facepass.pixora.demo import DEMO_SESSION_ID
from tests.conftest import ADMIN_TOKEN

PUBLIC = "https://photos.studio-guests.test"
QR_PATHS = ("qr.svg", "qr.png", "poster")


def _decode(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(results) == 1
    return str(results[0].text)


def test_production_refuses_to_start_without_a_public_url(settings: Settings) -> None:
    production = settings.model_copy(
        update={
            "environment": "production",
            "operator_name": "Studio Operator LLC",
            "privacy_policy_url": f"{PUBLIC}/privacy",
        }
    )
    with pytest.raises(ConfigError, match="FACEPASS_PUBLIC_BASE_URL"):
        production.require_production_ready()
    with pytest.raises(ConfigError, match="FACEPASS_PUBLIC_BASE_URL"):
        production.model_copy(update={"public_base_url": "photos.test"}).require_production_ready()
    production.model_copy(update={"public_base_url": PUBLIC}).require_production_ready()


def test_in_production_the_qr_code_and_poster_never_use_the_host(settings: Settings) -> None:
    production = settings.model_copy(
        update={
            "environment": "production",
            "public_base_url": PUBLIC,
            "operator_name": "Studio Operator LLC",
            "privacy_policy_url": f"{PUBLIC}/privacy",
        }
    )
    base = f"/api/v1/sessions/{DEMO_SESSION_ID}"
    with live_server(production, run_migrations=False, start_background=False) as url:
        for host in ("evil.example", "x" * 2300):
            with httpx.Client(base_url=url, headers={"Host": host}, timeout=60) as http:
                png = http.get(f"{base}/qr.png")
                assert png.status_code == 200
                assert _decode(png.content) == f"{PUBLIC}/s/{DEMO_SESSION_ID}"
                poster = http.get(f"{base}/poster")
                assert poster.status_code == 200
                assert f"{PUBLIC}/s/{DEMO_SESSION_ID}" in poster.text
                assert "evil.example" not in poster.text
                assert poster.headers["cache-control"].startswith("private")
                assert http.get(f"{base}/qr.svg").status_code == 200


def test_in_development_the_host_is_bounded_and_so_is_the_qr_size(settings: Settings) -> None:
    base = f"/api/v1/sessions/{DEMO_SESSION_ID}"
    with live_server(settings, run_migrations=False, start_background=False) as url:
        with httpx.Client(base_url=url, headers={"Host": "guests.local:8000"}) as http:
            png = http.get(f"{base}/qr.png")
            assert _decode(png.content) == f"http://guests.local:8000/s/{DEMO_SESSION_ID}"
            assert png.headers["cache-control"].startswith("private")
            assert http.get(f"{base}/poster").headers["cache-control"] == "private, no-cache"
        for host in ("x" * 2300, "a" * 300 + ".test", "evil.example/<script>", "a b"):
            with httpx.Client(base_url=url, headers={"Host": host}, timeout=60) as http:
                for path in QR_PATHS:
                    answer = http.get(f"{base}/{path}")
                    assert answer.status_code == 400, (host[:20], path)
                    assert answer.json()["error"]["code"] == "INVALID_HOST"
        longest = ".".join(["a" * 63] * 3) + "." + "b" * 57 + ":65535"  # 255 characters
        assert len(longest) == 255
        with httpx.Client(base_url=url, headers={"Host": longest}, timeout=60) as http:
            assert http.get(f"{base}/qr.png", params={"scale": 10}).status_code == 200
            huge = http.get(f"{base}/qr.png", params={"scale": 40})
            assert huge.status_code == 422
            assert huge.json()["error"]["code"] == "QR_TOO_LARGE"
            assert http.get(f"{base}/qr.png", params={"scale": 41}).status_code == 422


# One server for every colour: a server per case costs seconds each on a loaded 2-core machine.
BAD_COLOURS = ["#ff0000\n", "#ff0000 ", " #ff0000", "#ff00001", "#ff000", "ff0000", "#ff0000\x00"]


def test_a_branding_colour_must_be_the_whole_string(settings: Settings) -> None:
    with (
        live_server(settings, run_migrations=False, start_background=False) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60
        ) as http,
    ):
        for color in BAD_COLOURS:
            answer = http.put(
                f"/api/v1/sessions/{DEMO_SESSION_ID}/branding", json={"accent_color": color}
            )
            assert answer.status_code == 422, (color, answer.text)
            assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
        assert (
            http.put(
                f"/api/v1/sessions/{uuid.UUID(DEMO_SESSION_ID)}/branding",
                json={"accent_color": "#FF0000"},
            ).json()["accent_color"]
            == "#ff0000"
        )
