"""Hostile upload bodies (issue 12, items 1 and 4): refused whole with a 4xx, nothing lost or
merged, nothing left on disk."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from facepass.config import Settings
from tests.photos.conftest import ADMIN, upload
from tests.photos.images import face_jpeg, faceless_jpeg

DISPOSITION = b'Content-Disposition: form-data; name="files"; filename="%s"'


def _post_raw(client: TestClient, session_id: uuid.UUID, body: bytes, boundary: str = "zz"):  # type: ignore[no-untyped-def]
    headers = {**ADMIN, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    return client.post(f"/api/v1/sessions/{session_id}/photos", content=body, headers=headers)


def _spooled(settings: Settings) -> list[str]:
    spool = settings.data_dir / "tmp"
    return sorted(p.name for p in spool.iterdir()) if spool.exists() else []


def test_unterminated_bodies_are_refused_and_never_merge_later_photos(
    client: TestClient, settings: Settings, make_session
) -> None:
    session_id = make_session()
    first, second = face_jpeg(), faceless_jpeg()
    for image in (first, second):  # the reported shape: no closing `--zz--`
        body = b"--zz\r\n" + DISPOSITION % b"b.jpg" + b"\r\n\r\n" + image
        refused = _post_raw(client, session_id, body)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["code"] == "MALFORMED_MULTIPART"
        assert error["request_id"]
    # A complete first part does not make an unterminated second one acceptable.
    mixed = (
        b"--zz\r\n" + DISPOSITION % b"a.jpg" + b"\r\n\r\n" + first + b"\r\n"
        b"--zz\r\n" + DISPOSITION % b"b.jpg" + b"\r\n\r\n" + second
    )
    assert _post_raw(client, session_id, mixed).status_code == 400
    assert _spooled(settings) == []
    listed = client.get(f"/api/v1/sessions/{session_id}/photos", headers=ADMIN).json()
    assert listed["total"] == 0

    stored = upload(client, session_id, [("b.jpg", first), ("c.jpg", second)]).json()
    assert (stored["accepted"], stored["duplicates"]) == (2, 0)
    listed = client.get(f"/api/v1/sessions/{session_id}/photos", headers=ADMIN).json()
    assert len({photo["sha256"] for photo in listed["items"]}) == 2
    assert all(len(photo["sha256"]) == 64 for photo in listed["items"])


def test_a_nul_or_control_character_in_a_filename_is_a_400_and_stores_nothing(
    client: TestClient, settings: Settings, make_session
) -> None:
    session_id = make_session()
    for name in (b"a\x00b.jpg", b"a\x1b[31mred.jpg"):
        body = (
            b"--zz\r\n" + DISPOSITION % b"ok.jpg" + b"\r\n\r\n" + face_jpeg() + b"\r\n"
            b"--zz\r\n" + DISPOSITION % name + b"\r\n\r\n" + face_jpeg() + b"\r\n--zz--\r\n"
        )
        refused = _post_raw(client, session_id, body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "MALFORMED_MULTIPART"
    assert _spooled(settings) == []
    assert not (settings.data_dir / "photos").exists() or not any(
        (settings.data_dir / "photos").rglob("*.*")
    )
    listed = client.get(f"/api/v1/sessions/{session_id}/photos", headers=ADMIN).json()
    assert listed["total"] == 0


def test_parser_errors_are_4xx_in_the_common_shape(client: TestClient, make_session) -> None:
    session_id = make_session()
    cases = {
        "zz": b"--yy\r\n" + DISPOSITION % b"a.jpg" + b"\r\n\r\nx\r\n--yy--\r\n",
        "z" * 5000: b"--zz\r\n\r\nx\r\n--zz--\r\n",
        "lf": b"--lf\n" + DISPOSITION % b"a.jpg" + b"\n\nx\n--lf--\n",
        "h": b"--h\r\n" + DISPOSITION % (b"a" * 60_000) + b"\r\n\r\nx\r\n--h--\r\n",
        "n": b"--n\r\n\r\nx\r\n--n--\r\n",
    }
    for boundary, body in cases.items():
        answer = _post_raw(client, session_id, body, boundary)
        assert 400 <= answer.status_code < 500, (boundary[:10], answer.text)
        assert set(answer.json()["error"]) == {"code", "detail", "request_id"}


def test_out_of_range_numbers_and_nul_in_digests_are_422(client: TestClient, make_session) -> None:
    base = f"/api/v1/sessions/{make_session()}/photos"
    for params in ({"offset": 2**63}, {"offset": -1}, {"limit": 10**30}, {"limit": 0}):
        answer = client.get(base, params=params, headers=ADMIN)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
    assert client.get(base, params={"offset": 2**31 - 1}, headers=ADMIN).status_code == 200
    for digest in ("a" * 31 + "\x00" + "a" * 32, "z" * 64, "a" * 63):
        answer = client.post(f"{base}/check", json={"sha256": [digest]}, headers=ADMIN)
        assert answer.status_code == 422, answer.text
    upper = client.post(f"{base}/check", json={"sha256": ["A" * 64]}, headers=ADMIN)
    assert upper.status_code == 200
    assert upper.json() == {"known": {}}
