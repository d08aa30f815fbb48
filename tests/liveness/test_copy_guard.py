"""A live frame must be a new capture: a pair whose frame is a copy of a face the session
holds (a crop of an event photo, issue 16) is refused with LIVE_COPIED_FACE, for search and
opt-out alike, and removes nothing; a genuine pair of a person whose other photos are indexed
still passes."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from PIL import Image
from sqlalchemy import text

from facepass.access import audit
from facepass.demo_photos import demo_photo_set
from facepass.engine import get_engine
from facepass.engine.antispoof import get_antispoof
from facepass.guest.challenge import Direction
from facepass.lab.camera import turned_selfie
from facepass.lab.eval.copies import cut_out
from facepass.privacy.models import REMOVAL
from facepass.privacy.removals import new_ticket
from facepass.privacy.suppression import suppress_faces
from facepass.search.copy_guard import is_copy
from facepass.search.live_pair import COPY_FACTOR, LiveParams, analyze_frame, judge_pair
from tests.conftest import SHARED_DATA
from tests.liveness.conftest import LiveWorld, challenge_towards, pair_form
from tests.search.conftest import add_indexed_photo, create_pixora_session, jpeg

COPIED = "LIVE_COPIED_FACE"


def test_the_rule_a_copy_is_nearer_than_the_factor_times_the_threshold() -> None:
    assert is_copy(0.01, 0.05, 1.0)
    assert not is_copy(0.05, 0.05, 1.0)  # at the bound: a new capture
    assert not is_copy(0.3, 0.05, 1.0)  # another photo of the person: near, not that near
    assert is_copy(0.03, 0.05, 0.8)  # the embedder's scale: 0.03 < 0.04
    assert not is_copy(0.05, 0.05, 0.8)
    assert not is_copy(None, 0.05, 1.0)  # the session holds no face of the model
    assert not is_copy(0.0, 0.0, 1.0)  # factor 0: the check is off
    assert LiveParams().copy_factor == COPY_FACTOR
    antispoof = get_antispoof(get_engine().config)
    assert LiveParams.for_model(antispoof).copy_factor == COPY_FACTOR
    assert LiveParams.for_model(antispoof, None, 0.1).copy_factor == 0.1  # the operator's


def _faces(world: LiveWorld, session_id: uuid.UUID) -> int:
    with world.context.own_db.engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM faces WHERE session_id = :s"), {"s": session_id}
        ).scalar_one()
    return int(count)


def _send(
    client: httpx.Client,
    session_id: uuid.UUID,
    action: str,
    pair: tuple[bytes, bytes],
    direction: Direction,
) -> httpx.Response:
    issued = challenge_towards(client, session_id, direction)
    files, data = pair_form(pair[0], pair[1], issued["challenge_id"])
    return client.post(f"/api/v1/sessions/{session_id}/{action}", files=files, data=data)


def _assert_live_without_the_guard(pair: tuple[bytes, bytes], direction: Direction) -> None:
    """The pair passes the rest of the rule (turn, same person, anti-spoofing): only the copy
    guard stands in its way."""
    engine = get_engine()
    antispoof = get_antispoof(engine.config)
    first = analyze_frame(engine, antispoof, pair[0], 0, allow_turned=False)
    second = analyze_frame(engine, antispoof, pair[1], 1, allow_turned=True)
    params = LiveParams.for_model(antispoof)
    verdict = judge_pair(first, second, direction, params, engine.match_threshold)
    assert verdict.live, verdict


def _assert_refused_as_copy(answer: httpx.Response) -> None:
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == COPIED
    assert "not from a photo" in str(error)


def test_a_crop_of_her_indexed_photo_is_refused_as_a_copy_even_once_removed(
    client: httpx.Client, world: LiveWorld
) -> None:
    """The attack on the astronaut's session (no evaluation data needed): her face cut out of
    an indexed photo (40 % margin, enlarged 3 times, JPEG), then the fake camera's turned frame.
    A live pair by the passive rule, refused as a copy."""
    session = create_pixora_session(world.pixora_admin_url)
    photos = demo_photo_set()[:3]  # the portrait, enlarged, mirrored and dimmed
    for photo in photos:
        add_indexed_photo(world.context, session, photo.data, photo.filename)
    mirrored = photos[2].data  # mirrored like the fake camera's frames: it turns the same way
    box = get_engine().analyze(mirrored, embed=False).faces[0].box.as_list()
    crop = cut_out(Image.open(io.BytesIO(mirrored)).convert("RGB"), box)
    pair = (jpeg(crop, 92), jpeg(turned_selfie(turn=0.7)))
    _assert_live_without_the_guard(pair, Direction.LEFT)
    faces = _faces(world, session)
    assert faces >= 3
    for action in ("search", "opt-out"):
        _assert_refused_as_copy(_send(client, session, action, pair, Direction.LEFT))
    assert _faces(world, session) == faces  # the refused opt-out removed nothing

    # A copy of a removed face is still a copy: the studio removes every face, the pair is
    # refused as before (not answered with an empty gallery, nor "removed nothing").
    with world.context.own_db.engine.connect() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                text("SELECT id FROM faces WHERE session_id = :s"), {"s": session}
            )
        ]
    with world.context.own_db.session() as db:
        suppress_faces(db, session, ids, new_ticket(REMOVAL, audit.OPERATOR, 30))
    assert _faces(world, session) == 0
    for action in ("search", "opt-out"):
        _assert_refused_as_copy(_send(client, session, action, pair, Direction.LEFT))


def test_a_crop_of_an_indexed_face_is_refused_and_a_genuine_pair_passes(
    client: httpx.Client, world: LiveWorld
) -> None:
    if world.cfp is None:
        pytest.skip("needs CFP (../shared/data/cfp) for a real person's frontal and turned photo")
    cfp = world.cfp
    direction, turned = next(iter(cfp.turned.items()))
    # The genuine pair: frontal/01 and a profile photo, neither indexed; frontal 02-05 are.
    genuine = _send(client, cfp.session_id, "search", (cfp.frontal, turned), direction)
    assert genuine.status_code == 200, genuine.text
    assert {m["photo_id"] for m in genuine.json()["matches"]} <= {str(p) for p in cfp.photos}
    assert genuine.json()["matches"]

    # The attacker's frontal frame: the face of indexed frontal/02 cut out of the photo
    # (40 % margin, enlarged 3 times, JPEG), with the genuine turned photo.
    data = (
        SHARED_DATA / "cfp" / "Images" / f"{cfp.person:03d}" / "frontal" / "02.jpg"
    ).read_bytes()
    box = get_engine().analyze(data, embed=False).faces[0].box.as_list()
    crop = cut_out(Image.open(io.BytesIO(data)).convert("RGB"), box)
    pair = (jpeg(crop, 92), turned)
    _assert_live_without_the_guard(pair, direction)
    faces = _faces(world, cfp.session_id)
    for action in ("search", "opt-out"):
        _assert_refused_as_copy(_send(client, cfp.session_id, action, pair, direction))
    assert _faces(world, cfp.session_id) == faces
