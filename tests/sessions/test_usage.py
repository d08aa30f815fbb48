"""Usage analytics: validations and searches per session per day, for admins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from facepass.api.dependencies import app_context
from facepass.config import Settings
from facepass.pixora.validation import validate_session
from facepass.usage.recorder import record_usage
from tests.conftest import ADMIN_TOKEN
from tests.pixora.fixtures import app_client

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_validations_and_searches_are_counted_per_day(settings: Settings, make_session) -> None:
    session_id = make_session(facepass_enabled=False)
    unknown = uuid.uuid4()
    with app_client(settings) as client:
        client.get(f"/api/v1/sessions/validate/{session_id}")
        client.get(f"/api/v1/sessions/{session_id}/facepass-status")
        client.post(
            "/api/v1/sessions/validate",
            json={"session_ids": [str(session_id), str(session_id), str(unknown)]},
        )
        record_usage(session_id, "searches", 2)  # what the search service records
        # FacePass's own checks (serving each photo of a gallery) are not validations.
        validate_session(
            app_context(client.app).pixora,
            app_context(client.app).validation_cache,
            session_id,
            count_usage=False,
        )
        usage = client.get(f"/api/v1/sessions/{session_id}/usage?days=7", headers=ADMIN)
        nothing = client.get(f"/api/v1/sessions/{unknown}/usage", headers=ADMIN)
    assert usage.status_code == 200
    today = datetime.now(UTC).date().isoformat()
    counts = {"validations": 3, "searches": 2, "opt_outs_unmatched": 0}
    assert usage.json()["days"] == [{"day": today, **counts}]
    assert usage.json()["totals"] == counts
    assert nothing.json()["days"] == []  # unknown sessions are never counted


def test_usage_is_for_admins_only(settings: Settings) -> None:
    with app_client(settings) as client:
        anonymous = client.get(f"/api/v1/sessions/{uuid.uuid4()}/usage")
        wrong = client.get(
            f"/api/v1/sessions/{uuid.uuid4()}/usage", headers={"Authorization": "Bearer nope"}
        )
        too_long = client.get(f"/api/v1/sessions/{uuid.uuid4()}/usage?days=400", headers=ADMIN)
    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert too_long.status_code == 422
