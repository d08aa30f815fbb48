"""Search through people: a selfie that firmly matches a person's core finds the person's
turned faces too; edge faces and other people come in only on their own merit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from facepass.app import create_app
from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.demo_photos import astronaut_selfie
from facepass.engine import EngineConfig, get_engine
from facepass.people.tasks import regroup_session
from facepass.search.people import ExpansionParams, MemberFace, vouched
from facepass.search.query import analyze_selfie
from facepass.search.ranking import FaceHit
from tests.people.conftest import MODEL_ID, add_photo
from tests.search.conftest import create_pixora_session, jpeg, search_settings

THRESHOLD = 0.086


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


@dataclass
class Turned:
    settings: Settings
    session_id: uuid.UUID
    selfie: bytes
    near_photos: set[uuid.UUID]  # found by the selfie alone
    turned_photo: uuid.UUID  # a core face of the person, far from the selfie alone
    stranger_photos: set[uuid.UUID]


@pytest.fixture(scope="module")
def turned(
    own_db_url: str,
    pixora_url: str,
    pixora_admin_url: str,
    own_engine: Engine,
    tmp_path_factory: pytest.TempPathFactory,
) -> Turned:
    settings = search_settings(
        own_db_url,
        pixora_url,
        tmp_path_factory.mktemp("people-search"),
        search_rate_limit="1000/minute",
        # The geometry below is built for these cuts (the mechanism, not the tuned constants).
        people_average_factor=0.7,
        people_edge_factor=0.6,
    )
    selfie = jpeg(astronaut_selfie())
    # The session's faces are dlib's (tests.people.conftest.MODEL_ID), so is its search.
    dlib = get_engine(EngineConfig(embedder=MODEL_ID))
    query = _unit(analyze_selfie(dlib, selfie).embedding)
    rng = np.random.default_rng(30)
    away = rng.standard_normal(128)
    away = _unit(away - (away @ query) * query)

    def face(angle: float) -> np.ndarray:
        noise = rng.standard_normal(128) * 0.002
        return _unit(np.cos(angle) * query + np.sin(angle) * away + noise)

    session_id = create_pixora_session(pixora_admin_url)
    # The guest's photos: several close to the selfie, and views turning further away; the
    # furthest one is far from the selfie but close to the person's other faces (core).
    near = {add_photo(own_engine, session_id, [face(0.1)]).photo_id for _ in range(6)}
    near |= {add_photo(own_engine, session_id, [face(0.3)]).photo_id for _ in range(4)}
    near |= {add_photo(own_engine, session_id, [face(0.45)]).photo_id for _ in range(3)}
    far = add_photo(own_engine, session_id, [face(0.6)]).photo_id
    assert 1.0 - float(face(0.6) @ query) > 1.8 * THRESHOLD
    other = _unit(rng.standard_normal(128))
    strangers = {
        add_photo(own_engine, session_id, [_unit(other + rng.standard_normal(128) * 0.01)]).photo_id
        for _ in range(5)
    }
    app_context = AppContext.build(settings)
    try:
        regroup_session(app_context.work, session_id)
    finally:
        app_context.close()
    return Turned(settings, session_id, selfie, near, far, strangers)


def _found(settings: Settings, turned: Turned) -> set[uuid.UUID]:
    app = create_app(settings, run_migrations=False, start_background=False)
    with TestClient(app) as client:
        response = client.post(
            f"/api/v1/sessions/{turned.session_id}/search",
            files=[("selfie", ("selfie.jpg", turned.selfie, "image/jpeg"))],
        )
    assert response.status_code == 200, response.text
    return {uuid.UUID(m["photo_id"]) for m in response.json()["matches"]}


def test_a_firmly_matched_person_brings_its_turned_faces(turned: Turned) -> None:
    plain = _found(turned.settings.model_copy(update={"people_search_expansion": False}), turned)
    assert turned.turned_photo not in plain
    assert plain <= turned.near_photos | {turned.turned_photo}

    expanded = _found(turned.settings.model_copy(update={"people_search_expansion": True}), turned)
    assert turned.turned_photo in expanded
    assert plain < expanded
    assert not expanded & turned.stranger_photos


def test_edge_faces_need_to_match_on_their_own_core_faces_do_not() -> None:
    params = ExpansionParams(own_factor=1.5)

    def member(face_id: int, distance: float, core: bool) -> MemberFace:
        return MemberFace(FaceHit(face_id, uuid.uuid4(), distance, (0, 0, 1, 1)), core)

    members = [
        member(1, 0.20, core=True),  # far, but vouched for by the person
        member(2, 0.20, core=False),  # far and hanging by one link: left out
        member(3, 0.10, core=False),  # an edge face that matches well enough itself
    ]
    assert [h.face_id for h in vouched(members, THRESHOLD, params)] == [1, 3]
