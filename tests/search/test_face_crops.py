"""Face-cropped thumbnails: a square around the guest's face in each found photo, made from
the 'large' size on the first request, kept in the storage, and only through signed links."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from facepass.app import create_app
from facepass.guest.signing import MediaSigner
from facepass.photos.face_crops import SHAPES, crop_key, crop_region, make_crop
from facepass.photos.storage import build_storage
from tests.search.conftest import SearchWorld


@pytest.fixture
def client(world: SearchWorld) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings, start_background=False)) as test_client:
        yield test_client


def test_the_crop_is_the_shapes_aspect_centred_on_the_face_inside_the_photo() -> None:
    face = SHAPES["face"]
    # A small face in a wide group photo: a square 2.5 face sides high, the face in its middle.
    assert crop_region((900, 400, 1000, 500), (1600, 1067), face) == (825, 325, 1075, 575)
    # Near the edge: moved inside the photo, never past it; the face is still in the crop.
    left, top, right, bottom = crop_region((0, 0, 100, 100), (1600, 1067), face)
    assert (left, top, right - left, bottom - top) == (0, 0, 250, 250)
    # A face as large as the photo: the crop shrinks to fit, keeping the aspect.
    assert crop_region((0, 0, 500, 500), (500, 400), face) == (50, 0, 450, 400)
    # A tiny face is zoomed only so far: at least 160 px of the photo.
    left, _, right, _ = crop_region((800, 500, 810, 510), (1600, 1067), face)
    assert right - left == 160
    cover = crop_region((700, 300, 900, 500), (1600, 1067), SHAPES["cover"])
    assert (cover[2] - cover[0]) == 2 * (cover[3] - cover[1])


def test_make_crop_scales_the_original_box_to_the_large_size() -> None:
    large = Image.new("RGB", (800, 400), (0, 0, 255))
    large.paste((255, 0, 0), (300, 100, 400, 200))  # the face, at half the original's scale
    out = io.BytesIO()
    large.save(out, "JPEG", quality=95)
    crop = Image.open(io.BytesIO(make_crop(out.getvalue(), (600, 200, 800, 400), 1600, "face")))
    assert crop.size == (320, 320)
    middle = crop.getpixel((160, 160))
    corner = crop.getpixel((5, 5))
    assert isinstance(middle, tuple)
    assert isinstance(corner, tuple)
    assert middle[0] > 200  # the face (red) in the middle
    assert middle[2] < 60
    assert corner[2] > 200  # and the scene (blue) around it


def test_a_found_photo_gets_a_face_crop_made_once_and_kept(
    client: TestClient, world: SearchWorld
) -> None:
    answer = client.post(
        f"/api/v1/sessions/{world.main.session_id}/search",
        files=[("selfie", ("s.jpg", world.selfie, "image/jpeg"))],
    )
    assert answer.status_code == 200, answer.text
    match = answer.json()["matches"][0]
    url = match["face_url"]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"].startswith("private, max-age=")
    assert Image.open(io.BytesIO(response.content)).size == (320, 320)
    box = tuple(int(v) for v in url.split("box=")[1].split("&")[0].split(","))
    storage = build_storage(world.settings)
    key = crop_key(world.main.session_id, uuid.UUID(match["photo_id"]), "face", box)  # type: ignore[arg-type]
    assert storage.get(key) == response.content  # kept next to the other sizes
    assert client.get(url).content == response.content


def test_a_crop_link_cannot_be_moved_to_another_box_or_photo(
    client: TestClient, world: SearchWorld
) -> None:
    answer = client.post(
        f"/api/v1/sessions/{world.main.session_id}/search",
        files=[("selfie", ("s.jpg", world.selfie, "image/jpeg"))],
    )
    match = answer.json()["matches"][0]
    url: str = match["face_url"]
    box = url.split("box=")[1].split("&")[0]
    left = box.split(",")[0]
    moved = str(int(left) + 1) + box[len(left) :]
    other = str(next(iter(world.main.other_photos)))
    for bad in (
        url.replace(f"box={box}", f"box={moved}"),  # another face of the photo
        url.replace(match["photo_id"], other),  # another photo
        url.replace("/face?", "/cover?"),  # another shape
        url.replace("/face?", "/thumb?"),  # a crop's signature is not a size's
        url.replace(f"box={box}", "box=0,0,1,1x"),
        url.split("&sig=")[0],
    ):
        assert client.get(bad).status_code == 403, bad
    signer = MediaSigner(world.settings.media_signing_key or "", 60)
    expired = signer.crop_path(uuid.UUID(match["photo_id"]), "face", (1, 2, 30, 40), 1000)
    response = client.get(expired)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "LINK_EXPIRED"
