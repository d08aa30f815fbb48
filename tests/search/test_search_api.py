"""POST /api/v1/sessions/{id}/search against real services: a real face, a real index."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageFilter
from skimage import data as skdata

from facepass.app import create_app
from facepass.demo_photos import astronaut, astronaut_selfie
from facepass.engine.config import DEFAULT_EMBEDDER
from tests.conftest import ADMIN_TOKEN
from tests.search.conftest import SearchWorld, jpeg

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def client(world: SearchWorld) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings, start_background=False)) as test_client:
        yield test_client


def search(client: TestClient, session_id: uuid.UUID, *selfies: bytes, headers=None):  # type: ignore[no-untyped-def]
    files = [("selfie", (f"selfie-{i}.jpg", s, "image/jpeg")) for i, s in enumerate(selfies)]
    return client.post(f"/api/v1/sessions/{session_id}/search", files=files, headers=headers)


def test_a_selfie_finds_exactly_the_guests_photos_of_this_session(
    client: TestClient, world: SearchWorld
) -> None:
    response = search(client, world.main.session_id, world.selfie)
    assert response.status_code == 200, response.text
    body = response.json()
    found = {uuid.UUID(m["photo_id"]) for m in body["matches"]}
    assert found == world.main.astronaut_photos
    assert not found & world.other.astronaut_photos  # the same face in another session
    assert body["total"] == len(found)
    assert body["model_id"] == DEFAULT_EMBEDDER
    assert body["took_ms"] > 0
    query = body["query_faces"][0]
    assert query["selfie"] == 0
    left, top, right, bottom = query["box"]
    assert 0 <= left < right <= 640
    assert 0 <= top < bottom <= 480
    admin = search(client, world.main.session_id, world.selfie, headers=ADMIN).json()
    similarities = [m["similarity"] for m in admin["matches"]]
    assert similarities == sorted(similarities, reverse=True)
    assert [m["photo_id"] for m in admin["matches"]] == [m["photo_id"] for m in body["matches"]]
    assert body["index"] == {"photos_indexed": len(world.photos), "photos_pending": 0}
    for match in body["matches"]:
        assert match["thumb_url"].startswith(f"/media/{match['photo_id']}/thumb?exp=")
        assert "sig=" in match["original_url"]
        assert len(match["box"]) == 4


def test_the_other_session_finds_only_its_own_photos(
    client: TestClient, world: SearchWorld
) -> None:
    body = search(client, world.other.session_id, world.selfie).json()
    assert {uuid.UUID(m["photo_id"]) for m in body["matches"]} == world.other.astronaut_photos


@pytest.mark.parametrize(
    ("image", "code"),
    [
        (lambda: Image.fromarray(skdata.coffee()), "NO_FACE_FOUND"),
        (lambda: _small_face(), "FACE_TOO_SMALL"),
        (lambda: astronaut_selfie().filter(ImageFilter.GaussianBlur(6)), "FACE_BLURRY"),
    ],
    ids=["no-face", "too-small", "blurry"],
)
def test_a_selfie_without_a_usable_face_gets_advice(
    client: TestClient,
    world: SearchWorld,
    image,
    code: str,  # type: ignore[no-untyped-def]
) -> None:
    response = search(client, world.main.session_id, jpeg(image()))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def _small_face() -> Image.Image:
    canvas = Image.new("RGB", (1000, 1000), (90, 90, 90))
    canvas.paste(astronaut().resize((200, 200)), (400, 400))
    return canvas


def test_not_an_image_is_refused(client: TestClient, world: SearchWorld) -> None:
    response = search(client, world.main.session_id, b"definitely not a jpeg")
    assert response.status_code == 422
    assert response.json()["error"]["code"] in {"UNSUPPORTED_FORMAT", "CORRUPT_IMAGE"}


def test_several_selfies_skip_the_unusable_ones(client: TestClient, world: SearchWorld) -> None:
    no_face = jpeg(Image.fromarray(skdata.coffee()))
    mirrored = jpeg(astronaut_selfie().transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    body = search(client, world.main.session_id, world.selfie, no_face, mirrored).json()
    assert [q["selfie"] for q in body["query_faces"]] == [0, 2]
    assert body["skipped_selfies"] == [
        {"selfie": 1, "code": "NO_FACE_FOUND", "detail": body["skipped_selfies"][0]["detail"]}
    ]
    assert {uuid.UUID(m["photo_id"]) for m in body["matches"]} == world.main.astronaut_photos


def test_too_many_or_no_selfies_are_refused(client: TestClient, world: SearchWorld) -> None:
    four = search(client, world.main.session_id, *([world.selfie] * 4))
    assert four.status_code == 422
    assert four.json()["error"]["code"] == "TOO_MANY_SELFIES"
    none = client.post(
        f"/api/v1/sessions/{world.main.session_id}/search", files={"photo": ("a.jpg", b"x")}
    )
    assert none.status_code == 422
    assert none.json()["error"]["code"] == "SELFIE_REQUIRED"


def test_an_oversized_selfie_is_refused_while_streaming(
    client: TestClient, world: SearchWorld
) -> None:
    limit = world.settings.search_max_selfie_bytes
    response = search(client, world.main.session_id, b"\xff\xd8\xff" + b"\0" * (limit + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "SELFIE_TOO_LARGE"


@pytest.mark.parametrize(
    ("session", "status", "code"),
    [("disabled", 403, "FACEPASS_DISABLED"), ("unknown", 404, "SESSION_NOT_FOUND")],
)
def test_sessions_without_facepass_are_refused(
    client: TestClient, world: SearchWorld, session: str, status: int, code: str
) -> None:
    session_id = world.disabled_session_id if session == "disabled" else uuid.uuid4()
    response = search(client, session_id, world.selfie)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def _first_match(client: TestClient, world: SearchWorld) -> dict[str, str]:
    return search(client, world.main.session_id, world.selfie).json()["matches"][0]  # type: ignore[no-any-return]


def test_signed_links_serve_every_size_with_private_caching(
    client: TestClient, world: SearchWorld
) -> None:
    match = _first_match(client, world)
    for key, longest in (("thumb_url", 320), ("large_url", 1600)):
        response = client.get(match[key])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        cache = response.headers["cache-control"]
        assert cache.startswith("private, max-age=")
        assert int(cache.split("=")[1]) <= world.settings.media_url_ttl_s + 600
        assert max(Image.open(io.BytesIO(response.content)).size) <= longest
    original = client.get(match["original_url"] + "&download=1")
    assert original.status_code == 200
    assert original.content in {p.data for p in world.photos}
    assert original.headers["content-disposition"].startswith("attachment;")


def test_tampered_or_expired_links_are_refused(client: TestClient, world: SearchWorld) -> None:
    match = _first_match(client, world)
    url = match["original_url"]
    photo_id = match["photo_id"]
    other_photo = next(iter(world.main.other_photos))
    for bad in (
        url.replace(photo_id, str(other_photo)),  # another photo, same signature
        url.replace("/original?", "/large?").replace("sig=", "sig=x"),
        url.split("&sig=")[0],  # no signature
        url[:-3] + ("abc" if not url.endswith("abc") else "xyz"),
        f"/media/{photo_id}/original",
    ):
        assert client.get(bad).status_code == 403, bad
    expired = url.split("?")[0]
    from facepass.guest.signing import MediaSigner

    signer = MediaSigner(world.settings.media_signing_key or "", 60)
    response = client.get(
        expired + f"?exp=1000&sig={signer.signature(uuid.UUID(photo_id), 'original', 1000)}"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "LINK_EXPIRED"


def test_zip_download_of_the_search_results(client: TestClient, world: SearchWorld) -> None:
    body = search(client, world.main.session_id, world.selfie).json()
    tokens = [m["download_token"] for m in body["matches"]]
    response = client.post(
        f"/api/v1/sessions/{world.main.session_id}/download", data={"token": tokens}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert len(names) == len(world.main.astronaut_photos)
    assert {archive.read(n) for n in names} <= {p.data for p in world.photos}
    # A token of another session's photo never joins this session's archive.
    other = search(client, world.other.session_id, world.selfie).json()["matches"][0]
    mixed = client.post(
        f"/api/v1/sessions/{world.main.session_id}/download",
        json={"tokens": [tokens[0], other["download_token"]]},
    )
    assert mixed.status_code == 403
    forged = client.post(
        f"/api/v1/sessions/{world.main.session_id}/download",
        json={"tokens": [tokens[0][:-4] + "AAAA"]},
    )
    assert forged.status_code == 403
    # Named after the session and the day (RFC 6266 with a UTF-8 name).
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''search-" in disposition


def test_a_results_token_gives_fresh_links_to_the_same_photos(
    client: TestClient, world: SearchWorld
) -> None:
    body = search(client, world.main.session_id, world.selfie).json()
    assert body["results_expires_at"] > body["expires_at"]  # days, not an hour
    url = f"/api/v1/sessions/{world.main.session_id}/results"
    again = client.get(url, params={"token": body["results_token"]})
    assert again.status_code == 200, again.text
    results = again.json()
    assert [m["photo_id"] for m in results["matches"]] == [m["photo_id"] for m in body["matches"]]
    assert [m["box"] for m in results["matches"]] == [
        [round(v) for v in m["box"]] for m in body["matches"]
    ]
    thumb = client.get(results["matches"][0]["thumb_url"])
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    # Another session's URL, a forged token, junk: refused, never a 5xx.
    other = client.get(
        f"/api/v1/sessions/{world.other.session_id}/results",
        params={"token": body["results_token"]},
    )
    assert other.status_code == 403
    for junk in ("", "AAAA", body["results_token"][:-3] + "xyz", "é" * 50):
        refused = client.get(url, params={"token": junk})
        assert refused.status_code in (403, 422), refused.text
    disabled = client.get(
        f"/api/v1/sessions/{world.disabled_session_id}/results",
        params={"token": body["results_token"]},
    )
    assert disabled.status_code == 403


def test_a_query_token_rechecks_without_a_selfie(client: TestClient, world: SearchWorld) -> None:
    body = search(client, world.main.session_id, world.selfie).json()
    url = f"/api/v1/sessions/{world.main.session_id}/recheck"
    again = client.post(url, json={"query_token": body["query_token"]})
    assert again.status_code == 200, again.text
    rechecked = again.json()
    assert {m["photo_id"] for m in rechecked["matches"]} == {m["photo_id"] for m in body["matches"]}
    assert rechecked["results_expires_at"] == body["results_expires_at"]  # equally expiring
    # Sealed to its session; junk is refused.
    other = client.post(
        f"/api/v1/sessions/{world.other.session_id}/recheck",
        json={"query_token": body["query_token"]},
    )
    assert other.status_code == 403
    assert client.post(url, json={"query_token": "AAAA"}).status_code == 403
    assert client.post(url, json={}).status_code == 422
    assert client.post(url, content=b"not json").status_code == 422


def test_searches_are_counted_per_consent_version(client: TestClient, world: SearchWorld) -> None:
    files = [("selfie", ("s.jpg", world.selfie, "image/jpeg"))]
    url = f"/api/v1/sessions/{world.other.session_id}/search"
    assert client.post(url, files=files, data={"consent_version": "guest-page-1"}).is_success
    assert client.post(url, files=files, data={"consent_version": "guest-page-1"}).is_success
    assert client.post(url, files=files).is_success  # another client, its own consent
    too_long = client.post(url, files=files, data={"consent_version": "x" * 100})
    assert too_long.status_code == 422
    usage = client.get(
        f"/api/v1/sessions/{world.other.session_id}/usage",
        headers={"Authorization": f"Bearer {world.settings.admin_token}"},
    ).json()
    assert usage["searches_by_consent"]["guest-page-1"] >= 2
    assert usage["searches_by_consent"]["client"] >= 1


PROFILE = Path(__file__).resolve().parents[2].parent / "shared/data/cfp/Images/005/profile/01.jpg"


@pytest.mark.skipif(not PROFILE.is_file(), reason="../shared/data/cfp is needed")
def test_a_turned_selfie_is_a_further_angle_never_the_only_one(
    client: TestClient, world: SearchWorld
) -> None:
    turned = PROFILE.read_bytes()  # a CFP profile photo: yaw about 80 degrees
    alone = search(client, world.main.session_id, turned)
    assert alone.status_code == 422
    assert alone.json()["error"]["code"] == "FACE_NOT_FRONTAL"
    both = search(client, world.main.session_id, world.selfie, turned)
    assert both.status_code == 200, both.text
    body = both.json()
    assert [q["turned"] for q in body["query_faces"]] == [False, True]
    assert body["skipped_selfies"] == []
    # The profile of a stranger adds nothing: the frontal selfie's photos are found as before.
    assert {uuid.UUID(m["photo_id"]) for m in body["matches"]} == world.main.astronaut_photos
