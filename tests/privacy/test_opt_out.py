"""A guest's opt-out: their faces leave the session's search for good; nobody else's do."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from facepass.indexing.pipeline import IndexingContext, index_photo
from facepass.lab.photos import add_photo
from facepass.observability.metrics import REGISTRY
from facepass.photos.service import delete_photo
from facepass.search import live
from tests.access.conftest import audit_rows
from tests.liveness.pairs import any_direction
from tests.privacy.conftest import GUEST_A, GUEST_B, PrivacyWorld, live_opt_out, search


def _reindex(world: PrivacyWorld, photo_id: uuid.UUID) -> None:
    with world.app_context.own_db.session() as db:
        db.execute(text("UPDATE photos SET status = 'pending' WHERE id = :p"), {"p": photo_id})
    context = IndexingContext(
        world.app_context.work, "privacy-tests", world.app_context.engines.get()
    )
    assert index_photo(context, photo_id) == "indexed"


def test_after_an_opt_out_the_guest_is_never_found_and_others_are_unchanged(
    client: TestClient, world: PrivacyWorld
) -> None:
    session = world.session_id
    before_a = search(client, session, world.selfie(GUEST_A))
    before_b = search(client, session, world.selfie(GUEST_B))
    assert before_a
    assert before_a <= world.photos[GUEST_A]
    assert before_b
    assert before_b <= world.photos[GUEST_B]

    response = live_opt_out(
        client, session, world.live_pairs(GUEST_A), data={"consent_version": "2026-11"}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["faces_removed"] >= len(before_a)
    assert answer["photos_affected"] >= len(before_a)

    assert search(client, session, world.selfie(GUEST_A)).isdisjoint(before_a)
    assert search(client, session, world.selfie(GUEST_B)) == before_b
    # The embeddings are gone, not merely hidden; the photos themselves stay the studio's.
    with world.app_context.own_db.session() as db:
        left = db.execute(
            text("SELECT count(*) FROM photos WHERE id = ANY(:ids)"), {"ids": list(before_a)}
        ).scalar_one()
        suppressed = db.execute(
            text("SELECT count(*) FROM face_suppressions WHERE session_id = :s"), {"s": session}
        ).scalar_one()
    assert left == len(before_a)
    assert suppressed == answer["faces_removed"]
    assert not (world.settings.data_dir / "selfies").exists()  # nothing of the selfie kept

    # Re-indexing a photo, or deleting and uploading it again, never brings the face back.
    reindexed, reuploaded = sorted(before_a)[:2]
    _reindex(world, reindexed)
    delete_photo(world.app_context.own_db, world.app_context.storage, session, reuploaded)
    new_id = add_photo(
        world.app_context.own_db,
        world.app_context.storage,
        session,
        world.data[reuploaded],
        "again.jpg",
    )
    context = IndexingContext(
        world.app_context.work, "privacy-tests", world.app_context.engines.get()
    )
    assert index_photo(context, new_id) == "indexed"
    found = search(client, session, world.selfie(GUEST_A))
    assert found.isdisjoint(before_a | {new_id})
    assert search(client, session, world.selfie(GUEST_B)) == before_b

    assert world.settings.database_url is not None
    rows = [r for r in audit_rows(world.settings.database_url, session) if r["action"] == "opt_out"]
    assert len(rows) == 1
    assert rows[0]["actor"] == "guest"
    assert rows[0]["counts"]["faces"] == answer["faces_removed"]
    assert rows[0]["counts"]["consent_version"] == "2026-11"


def test_an_opt_out_without_a_usable_face_removes_nothing(
    client: TestClient, world: PrivacyWorld
) -> None:
    from tests.photos.images import faceless_jpeg

    cups = any_direction(faceless_jpeg(), faceless_jpeg())
    response = live_opt_out(client, world.session_id, cups)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "NO_FACE_FOUND"


def _no_face_searches() -> float:
    return REGISTRY.get_sample_value("facepass_searches_total", {"outcome": "no_face"}) or 0.0


def test_only_a_selfie_without_a_usable_face_counts_as_a_no_face_search(
    client: TestClient, world: PrivacyWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.photos.images import faceless_jpeg

    before = _no_face_searches()
    cups = any_direction(faceless_jpeg(), faceless_jpeg())
    assert live_opt_out(client, world.session_id, cups).status_code == 422
    assert _no_face_searches() == before + 1

    async def broken_engine(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the engine failed")  # e.g. ONNX Runtime out of memory

    monkeypatch.setattr(live, "analyze_frame", broken_engine)
    failing = TestClient(client.app, raise_server_exceptions=False)
    answer = live_opt_out(failing, world.session_id, world.live_pairs(GUEST_A))
    assert answer.status_code == 500
    assert _no_face_searches() == before + 1  # the engine's failure is not the guest's selfie


def test_opt_outs_share_the_searches_rate_limit(world: PrivacyWorld) -> None:
    import uuid as _uuid

    from facepass.app import create_app
    from tests.photos.images import faceless_jpeg

    limited = world.settings.model_copy(
        update={
            "search_rate_limit": "2/minute",
            "redis_key_prefix": f"facepass-test:optout:{_uuid.uuid4().hex[:8]}:",
        }
    )
    app = create_app(limited, run_migrations=False, start_background=False)
    with TestClient(app) as limited_client:
        codes = [
            limited_client.post(
                f"/api/v1/sessions/{world.session_id}/opt-out",
                files=[("selfie", ("cup.jpg", faceless_jpeg(), "image/jpeg"))],
            ).status_code
            for _ in range(2)
        ]
        search = limited_client.post(
            f"/api/v1/sessions/{world.session_id}/search",
            files=[("selfie", ("cup.jpg", faceless_jpeg(), "image/jpeg"))],
        )
    assert codes == [403, 403]  # counted before the live check refuses them (no challenge)
    assert search.status_code == 429
    assert "Retry-After" in search.headers
