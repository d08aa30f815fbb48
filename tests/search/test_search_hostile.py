"""Hostile selfie and download bodies (issue 12, items 2, 3 and 5): every one a 4xx in the
common shape, never a 500."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from facepass.app import create_app
from tests.search.conftest import create_pixora_session, search_settings

SELFIE = b'Content-Disposition: form-data; name="selfie"; filename="s.jpg"'


@pytest.fixture(scope="module")
def hostile(
    own_db_url: str,
    pixora_url: str,
    pixora_admin_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, uuid.UUID]]:
    settings = search_settings(
        own_db_url,
        pixora_url,
        tmp_path_factory.mktemp("hostile"),
        search_rate_limit="10000/minute",
        search_session_rate_limit="10000/minute",
        search_device_rate_limit="10000/minute",
        download_rate_limit="10000/minute",
    )
    session_id = create_pixora_session(pixora_admin_url)
    with TestClient(create_app(settings, start_background=False)) as client:
        yield client, session_id


CASES: dict[str, tuple[str, bytes]] = {
    "boundary mismatch": ("zz", b"--yy\r\n" + SELFIE + b"\r\n\r\nx\r\n--yy--\r\n"),
    "header without colon": ("zz", b"--zz\r\nContent-Disposition form-data\r\n\r\nx\r\n--zz--\r\n"),
    "60 KB part header": (
        "zz",
        b"--zz\r\n" + SELFIE + b"; x=" + b"a" * 60_000 + b"\r\n\r\nx\r\n--zz--\r\n",
    ),
    "5,000-character boundary": ("b" * 5000, b"--" + b"b" * 5000 + b"\r\n" + SELFIE),
    "LF-only line ends": ("zz", b"--zz\n" + SELFIE + b"\n\nx\n--zz--\n"),
    "junk after the boundary": ("zz", b"--zz junk\r\n" + SELFIE + b"\r\n\r\nx\r\n--zz--\r\n"),
    "a part with no headers": ("zz", b"--zz\r\n\r\nx\r\n--zz--\r\n"),
    "no closing boundary": ("zz", b"--zz\r\n" + SELFIE + b"\r\n\r\n\xff\xd8\xff"),
    "empty body": ("zz", b""),
    "NUL in the filename": ("zz", b"--zz\r\n" + SELFIE[:-3] + b'\x00.jpg"\r\n\r\nx\r\n--zz--\r\n'),
    "boundary with a quote": ('"zz', b"--zz\r\n" + SELFIE + b"\r\n\r\nx\r\n--zz--\r\n"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_selfie_bodies_are_refused_in_the_common_shape(
    hostile: tuple[TestClient, uuid.UUID], case: str
) -> None:
    client, session_id = hostile
    boundary, body = CASES[case]
    answer = client.post(
        f"/api/v1/sessions/{session_id}/search",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert 400 <= answer.status_code < 500, answer.text
    error = answer.json()["error"]
    assert set(error) == {"code", "detail", "request_id"}
    assert error["request_id"]
    assert error["code"] in {"MALFORMED_MULTIPART", "SELFIE_REQUIRED"}


def _png(size: tuple[int, int], mode: str = "1") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def test_a_selfie_over_the_pixel_cap_is_refused_before_decoding(
    hostile: tuple[TestClient, uuid.UUID],
) -> None:
    client, session_id = hostile
    # 88 MP of one colour: ~10 KB on the wire, 265 MB decoded, under the engine's 89 MP cap;
    # refused from its header by the selfie cap (24 MP).
    bomb = _png((9400, 9400))
    assert len(bomb) < 100_000
    answer = client.post(
        f"/api/v1/sessions/{session_id}/search", files={"selfie": ("s.png", bomb, "image/png")}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "IMAGE_TOO_LARGE"
    under_cap = client.post(
        f"/api/v1/sessions/{session_id}/search",
        files={"selfie": ("s.png", _png((1000, 1000), "RGB"), "image/png")},
    )
    assert under_cap.status_code == 422
    assert under_cap.json()["error"]["code"] == "NO_FACE_FOUND"  # decoded and searched


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b"{not json", 400),
        ("application/json", b'{"tokens": ["\xff\xfe"]}', 400),
        ("application/json", b"[" * 100_000 + b"]" * 100_000, 413),
        ("application/json", b"[" * 5_000 + b"]" * 5_000, 400),
        ("application/json", b'{"tokens": "abc"}', 422),
        ("application/json", b'{"tokens": [' + b'"x",' * 60_000 + b'"x"]}', 413),
        ("application/x-www-form-urlencoded", b"token=\xff", 400),
        ("application/x-www-form-urlencoded", b"token=a&" * 1002, 422),
        ("text/plain", b"token=a", 422),
    ],
)
def test_malformed_download_bodies_are_4xx(
    hostile: tuple[TestClient, uuid.UUID], content_type: str, body: bytes, status: int
) -> None:
    client, session_id = hostile
    answer = client.post(
        f"/api/v1/sessions/{session_id}/download",
        content=body,
        headers={"Content-Type": content_type},
    )
    assert answer.status_code == status, answer.text
    assert set(answer.json()["error"]) == {"code", "detail", "request_id"}


def test_downloads_are_rate_limited_per_address(
    own_db_url: str, pixora_url: str, pixora_admin_url: str, tmp_path: Path
) -> None:
    settings = search_settings(own_db_url, pixora_url, tmp_path, download_rate_limit="2/minute")
    session_id = create_pixora_session(pixora_admin_url)
    with TestClient(create_app(settings, start_background=False)) as client:
        answers = [
            client.post(f"/api/v1/sessions/{session_id}/download", json={"tokens": ["a.1.x"]})
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [403, 403, 429]
    assert answers[-1].json()["error"]["code"] == "RATE_LIMITED"
    assert int(answers[-1].headers["retry-after"]) >= 1
