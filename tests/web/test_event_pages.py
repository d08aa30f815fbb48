"""How guests arrive (QR code, poster) and what they see of the event (branding)."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Iterator

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from facepass.app import create_app
from facepass.config import Settings
from facepass.pixora.demo import DEMO_SESSION_ID, DISABLED_SESSION_ID
from tests.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PUBLIC = "https://photos.example-studio.ru"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    configured = settings.model_copy(
        update={
            "public_base_url": PUBLIC,
            "operator_name": "ООО «Пиксора»",
            "privacy_policy_url": "https://pixora.example/privacy",
        }
    )
    with TestClient(create_app(configured, start_background=False)) as test_client:
        yield test_client


def decode(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(results) == 1
    return results[0].text


def test_the_qr_code_decodes_to_the_public_guest_url(client: TestClient) -> None:
    png = client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}/qr.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert decode(png.content) == f"{PUBLIC}/s/{DEMO_SESSION_ID}"
    svg = client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg")
    # A disabled session still gets its code (printed before FacePass is turned on)...
    assert client.get(f"/api/v1/sessions/{DISABLED_SESSION_ID}/qr.png").status_code == 200
    # ...an unknown one does not; junk is a 422, never a 5xx.
    assert client.get(f"/api/v1/sessions/{uuid.uuid4()}/qr.svg").status_code == 404
    assert client.get("/api/v1/sessions/nope/qr.png").status_code == 422
    assert client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}/qr.png?scale=0").status_code == 422


def test_the_poster_is_printable_in_both_languages(client: TestClient) -> None:
    for size in ("a4", "a5"):
        poster = client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}/poster", params={"size": size})
        assert poster.status_code == 200
        html = poster.text
        assert f'class="poster {size}"' in html
        assert "Тестовая поиск по лицу" in html
        assert 'lang="ru"' in html
        assert 'lang="en"' in html
        assert "Scan the code with your phone" in html
        assert "<svg" in html
        assert f"{PUBLIC}/s/{DEMO_SESSION_ID}" in html
    assert client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}/poster?size=a0").status_code == 422


def _logo() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 30, 30)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_branding_is_admin_only_validated_and_shown_on_the_page(client: TestClient) -> None:
    url = f"/api/v1/sessions/{DEMO_SESSION_ID}/branding"
    values = {
        "event_name": "Выпускной 11 «Б»",
        "event_date": "2026-06-27",
        "studio_name": "Студия «Свет»",
        "accent_color": "#FFD000",
        "logo_base64": _logo(),
    }
    assert client.put(url, json=values).status_code == 401
    saved = client.put(url, json=values, headers=ADMIN)
    assert saved.status_code == 200, saved.text
    assert saved.json()["accent_color"] == "#ffd000"
    assert saved.json()["logo_url"] == f"/api/v1/sessions/{DEMO_SESSION_ID}/logo"
    assert client.get(url, headers=ADMIN).json()["event_name"] == "Выпускной 11 «Б»"
    logo = client.get(saved.json()["logo_url"])
    assert logo.status_code == 200
    assert logo.headers["content-type"] == "image/png"

    page = client.get(f"/s/{DEMO_SESSION_ID}", headers={"Accept-Language": "ru"}).text
    assert "<title>Выпускной 11 «Б» · Найдите свои фото · FacePass</title>" in page
    assert "27 июня 2026" in page
    assert "Студия «Свет»" in page
    assert '"accent":"#ffd000","accent_fg":"#000000"' in page  # dark text on yellow
    # Yellow text would not read on white (1.4:1): links there use the text colour instead.
    assert '"accent_text":"#16181d","accent_text_dark":"#ffd000"' in page
    assert "ООО «Пиксора»" in page
    assert "https://pixora.example/privacy" in page
    assert f'<meta property="og:url" content="{PUBLIC}/s/{DEMO_SESSION_ID}">' in page

    for bad in (
        {"accent_color": "red"},
        {"logo_base64": "not base64!"},
        {"logo_base64": base64.b64encode(b"<svg/>").decode()},
        {"cover_photo_id": str(uuid.uuid4())},
        {"event_name": "x" * 500},
    ):
        refused = client.put(url, json=bad, headers=ADMIN)
        assert refused.status_code == 422, (bad, refused.text)
    assert (
        client.put(f"/api/v1/sessions/{uuid.uuid4()}/branding", json={}, headers=ADMIN).status_code
        == 404
    )
    # Cleared again: the page falls back to Pixora's name.
    assert client.put(url, json={}, headers=ADMIN).status_code == 200
    assert client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}/logo").status_code == 404


def test_favicon(client: TestClient) -> None:
    icon = client.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
