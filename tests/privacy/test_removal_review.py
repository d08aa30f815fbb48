"""Removal review against a live server: an opt-out hides the guest at once (search, results
tokens, older links and ZIP claims), the studio sees it and restores it; then it is as before."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from facepass.lab.liveserver import live_server
from facepass.photos.service import delete_photo
from facepass.privacy.removals import finalize_due
from tests.conftest import ADMIN_TOKEN
from tests.privacy.conftest import GUEST_A, GUEST_B, PrivacyWorld, live_opt_out
from tests.search.conftest import add_indexed_photo

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STRANGER = "Tony_Blair"  # in no photo of the session


@pytest.fixture(scope="module")
def server(world: PrivacyWorld) -> Iterator[str]:
    with live_server(world.settings, run_migrations=False, start_background=False) as url:
        yield url


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=120) as client:
        yield client


def _selfie(data: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("selfie", ("selfie.jpg", data, "image/jpeg"))]


def _search(http: httpx.Client, world: PrivacyWorld, person: str) -> dict[str, Any]:
    answer = http.post(
        f"/api/v1/sessions/{world.session_id}/search", files=_selfie(world.selfie(person))
    )
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _ids(answer: dict[str, Any]) -> set[uuid.UUID]:
    return {uuid.UUID(m["photo_id"]) for m in answer["matches"]}


def _removals(http: httpx.Client, world: PrivacyWorld) -> list[dict[str, Any]]:
    answer = http.get(f"/api/v1/sessions/{world.session_id}/removals", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["review_days"] == world.settings.removal_review_days
    return body["removals"]  # type: ignore[no-any-return]


def _zip_names(response: httpx.Response) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(response.content)).namelist()


def test_opt_out_hides_at_once_and_the_studio_restores_it(
    http: httpx.Client, world: PrivacyWorld
) -> None:
    session = world.session_id
    before = _search(http, world, GUEST_A)
    found_a = _ids(before)
    assert found_a
    assert found_a <= world.photos[GUEST_A]
    found_b = _ids(_search(http, world, GUEST_B))
    old_link = before["matches"][0]["original_url"]
    old_tokens = [m["download_token"] for m in before["matches"]]
    assert http.get(old_link).status_code == 200

    optout = live_opt_out(http, session, world.live_pairs(GUEST_A))
    assert optout.status_code == 200, optout.text
    removed = optout.json()["faces_removed"]
    assert removed >= len(found_a)

    # At once: search, the older results token, the older link and the older ZIP claims.
    assert _ids(_search(http, world, GUEST_A)).isdisjoint(found_a)
    results = http.get(
        f"/api/v1/sessions/{session}/results", params={"token": before["results_token"]}
    )
    assert results.status_code == 200
    assert results.json()["matches"] == []
    assert http.get(old_link).status_code == 404
    archive = http.post(f"/api/v1/sessions/{session}/download", json={"tokens": old_tokens})
    assert archive.status_code == 404
    assert archive.json()["error"]["code"] == "PHOTO_NOT_FOUND"
    assert _ids(_search(http, world, GUEST_B)) == found_b  # nobody else's faces

    # The studio's review: when, how many, which photos and boxes; nothing biometric.
    assert http.get(f"/api/v1/sessions/{session}/removals").status_code == 401
    listed = _removals(http, world)
    assert len(listed) == 1
    removal = listed[0]
    assert removal["reason"] == "opt_out"
    assert removal["actor"] == "guest"
    assert removal["status"] == "in_review"
    assert removal["restorable"] is True
    assert removal["faces_removed"] == removed
    assert removal["client_hash"]
    assert {uuid.UUID(f["photo_id"]) for f in removal["faces"]} >= found_a
    assert all(len(f["box"]) == 4 for f in removal["faces"])
    assert "embedding" not in json.dumps(listed)
    review_until = datetime.fromisoformat(removal["review_until"])
    created = datetime.fromisoformat(removal["created_at"])
    assert abs(review_until - created - timedelta(days=14)) < timedelta(minutes=1)

    restored = http.post(
        f"/api/v1/sessions/{session}/removals/{removal['id']}/restore", headers=ADMIN
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["faces_restored"] >= removed
    assert restored.json()["removal"]["status"] == "restored"
    assert _ids(_search(http, world, GUEST_A)) == found_a
    assert _ids(_search(http, world, GUEST_B)) == found_b
    again = http.get(
        f"/api/v1/sessions/{session}/results", params={"token": before["results_token"]}
    )
    assert {uuid.UUID(m["photo_id"]) for m in again.json()["matches"]} == found_a
    zipped = http.post(f"/api/v1/sessions/{session}/download", json={"tokens": old_tokens})
    assert zipped.status_code == 200
    assert len(_zip_names(zipped)) == len(old_tokens)

    second = http.post(
        f"/api/v1/sessions/{session}/removals/{removal['id']}/restore", headers=ADMIN
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "REMOVAL_RESTORED"
    unknown = http.post(
        f"/api/v1/sessions/{session}/removals/{uuid.uuid4()}/restore", headers=ADMIN
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "REMOVAL_NOT_FOUND"
    assert _removals(http, world)[0]["status"] == "restored"

    # The suppression is lifted: the same bytes, deleted and uploaded again, are indexed.
    again_id = sorted(found_a)[0]
    parts = world.app_context
    delete_photo(parts.own_db, parts.storage, session, again_id)
    new_id = add_indexed_photo(parts, session, world.data[again_id], "again.jpg")
    assert new_id in _ids(_search(http, world, GUEST_A))


def test_an_opt_out_matching_nothing_is_counted_not_stored(
    http: httpx.Client, world: PrivacyWorld
) -> None:
    session = world.session_id
    listed = len(_removals(http, world))
    optout = live_opt_out(http, session, world.live_pairs(STRANGER, first=1))
    assert optout.status_code == 200, optout.text
    assert optout.json()["faces_removed"] == 0
    assert len(_removals(http, world)) == listed
    usage = http.get(f"/api/v1/sessions/{session}/usage", headers=ADMIN)
    assert usage.status_code == 200
    assert usage.json()["totals"]["opt_outs_unmatched"] >= 1
    with world.app_context.own_db.session() as db:
        rows = db.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE session_id = :s AND action = 'opt_out' "
                "AND (counts->>'faces')::int = 0"
            ),
            {"s": session},
        ).scalar_one()
    assert rows == 0


def test_after_the_review_window_a_removal_is_final_and_its_faces_purged(
    http: httpx.Client, world: PrivacyWorld
) -> None:
    session = world.session_id
    optout = live_opt_out(http, session, world.live_pairs(GUEST_B))
    assert optout.status_code == 200
    removal = _removals(http, world)[0]
    assert removal["status"] == "in_review"
    removal_id = uuid.UUID(removal["id"])
    with world.app_context.own_db.session() as db:
        db.execute(
            text("UPDATE removals SET review_until = now() - interval '1 second' WHERE id = :r"),
            {"r": removal_id},
        )
    refused = http.post(f"/api/v1/sessions/{session}/removals/{removal_id}/restore", headers=ADMIN)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "REMOVAL_FINAL"
    with world.app_context.own_db.session() as db:
        assert finalize_due(db, datetime.now(UTC)) >= 1
        held = db.execute(
            text("SELECT count(*) FROM removed_faces WHERE removal_id = :r"), {"r": removal_id}
        ).scalar_one()
    assert held == 0
    final = next(r for r in _removals(http, world) if r["id"] == str(removal_id))
    assert final["status"] == "final"
    assert final["restorable"] is False
    # The faces the live pair removed stay gone (the pair's two queries, frontal and turned,
    # find what they find: the removal says which photos).
    removed = {uuid.UUID(face["photo_id"]) for face in removal["faces"]}
    assert removed
    assert _ids(_search(http, world, GUEST_B)).isdisjoint(removed)


def test_opt_outs_are_limited_per_browser_and_per_address(world: PrivacyWorld) -> None:
    settings = world.settings.model_copy(
        update={
            "redis_key_prefix": f"{world.settings.redis_key_prefix}limits-{uuid.uuid4().hex[:6]}:",
            "opt_out_device_rate_limit": "2/hour",
            "opt_out_rate_limit": "4/hour",
        }
    )
    stranger = world.live_pairs(STRANGER, first=1)  # matches nothing: the limits alone count
    session = world.session_id
    with (
        live_server(settings, run_migrations=False, start_background=False) as base,
        httpx.Client(base_url=base, timeout=120) as http,
    ):
        one = {"X-FacePass-Device": world.app_context.tokens.new_device_token()}
        two = {"X-FacePass-Device": world.app_context.tokens.new_device_token()}
        statuses = [
            live_opt_out(http, session, stranger, headers=one).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        assert live_opt_out(http, session, stranger, headers=two).status_code == 200
        refused = live_opt_out(http, session, stranger, headers=two)  # the address's fifth
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "RATE_LIMITED"
        assert int(refused.headers["Retry-After"]) > 0
