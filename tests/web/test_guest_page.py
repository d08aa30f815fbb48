"""The guest page: validated on the server, in Russian or English, small and self-contained."""

from __future__ import annotations

import gzip
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.config import Settings
from facepass.pixora.demo import DEMO_SESSION_ID, DISABLED_SESSION_ID


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, start_background=False)) as test_client:
        yield test_client


def test_page_of_an_active_session_has_camera_and_upload_in_russian_by_default(
    client: TestClient,
) -> None:
    response = client.get(f"/api/v1/sessions/{DEMO_SESSION_ID}/interface")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="ru">' in html
    assert "Сделать селфи" in html
    assert 'accept="image/*"' in html
    # The gallery input opens the gallery: `capture` would open the camera on phones.
    assert "capture=" not in html
    assert "Тестовая поиск по лицу" in html  # the session's name, from Pixora
    assert "<title>Тестовая поиск по лицу · Найдите свои фото · FacePass</title>" in html
    assert '<meta property="og:title" content="Тестовая поиск по лицу' in html
    assert 'rel="icon" href="/assets/favicon.svg?v=' in html
    # Consent comes first, and its version travels with each search.
    assert html.index('id="consent"') < html.index('id="intro"')
    assert '"consent_version":"guest-page-1"' in html
    assert '"device_token":"' in html
    assert f"/api/v1/sessions/{DEMO_SESSION_ID}/search" in html
    assert "no-referrer" in response.headers["referrer-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_accept_language_picks_english_and_the_switch_is_remembered(client: TestClient) -> None:
    english = client.get(f"/s/{DEMO_SESSION_ID}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.status_code == 200
    assert '<html lang="en">' in english.text
    assert "Take a selfie" in english.text

    switched = client.get(f"/s/{DEMO_SESSION_ID}?lang=ru", headers={"Accept-Language": "en"})
    assert '<html lang="ru">' in switched.text
    assert switched.cookies.get("facepass_lang") == "ru"
    # The cookie now outranks the browser's preference.
    again = client.get(f"/s/{DEMO_SESSION_ID}", headers={"Accept-Language": "en"})
    assert '<html lang="ru">' in again.text


@pytest.mark.parametrize(
    ("path", "status", "title_en"),
    [
        (f"/s/{uuid.uuid4()}", 404, "Event not found"),
        ("/s/not-a-uuid", 404, "Event not found"),
        (f"/api/v1/sessions/{DISABLED_SESSION_ID}/interface", 403, "Face search is off"),
    ],
)
def test_unknown_and_disabled_sessions_get_friendly_pages(
    client: TestClient, path: str, status: int, title_en: str
) -> None:
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert f"<h1>{title_en}</h1>" in response.text
    assert "start-camera" not in response.text
    assert 'id="error-contact"' in response.text  # who to ask, not a dead end
    if status == 403:  # a disabled event still names itself
        assert 'id="error-event"' in response.text


def test_pixora_down_gives_a_503_page(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={
            "main_app_database_url": "postgresql://nobody@127.0.0.1:1/none",
            "pixora_connect_timeout_s": 1,
        }
    )
    with TestClient(create_app(unreachable, start_background=False)) as client:
        response = client.get(f"/s/{DEMO_SESSION_ID}", headers={"Accept-Language": "ru"})
    assert response.status_code == 503
    assert "Сервис временно недоступен" in response.text


def test_assets_are_same_origin_small_versioned_and_gzipped(client: TestClient) -> None:
    page = client.get(f"/s/{DEMO_SESSION_ID}", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["vary"]
    html = page.text
    urls = re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)
    assert len(urls) == 3  # icon, CSS, JS
    assert not re.search(r'(?:src|href)="https?://', html)  # no CDN, works on a LAN
    total = len(html.encode())
    for url in urls:
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert "immutable" in response.headers["cache-control"]
        total += len(gzip.compress(response.content))
    # Everything a 3G phone downloads before the camera opens, compressed.
    assert total < 40_000
    assert client.get("/assets/../config.py").status_code == 404
