"""Every admin action leaves one audit row; reads and failures none; rows never change."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import DBAPIError

from facepass.cli import main
from facepass.composition.context import AppContext
from facepass.config import Settings, get_settings
from facepass.db import sqlalchemy_url
from tests.access.conftest import audit_rows, bearer
from tests.conftest import ADMIN_TOKEN
from tests.photos.images import face_jpeg, faceless_jpeg
from tests.pixora.fixtures import SessionFactory
from tests.search.conftest import add_indexed_photo

OPERATOR = bearer(ADMIN_TOKEN)


@pytest.fixture
def cli_env(settings: Settings) -> Iterator[dict[str, str]]:
    """The CLI's environment: the test's databases (settings are read once per process)."""
    assert settings.database_url is not None
    assert settings.main_app_database_url is not None
    get_settings.cache_clear()
    yield {
        "FACEPASS_DATABASE_URL": settings.database_url,
        "MAIN_APP_DATABASE_URL": settings.main_app_database_url,
        "FACEPASS_LOG_JSON": "false",
    }
    get_settings.cache_clear()


def test_every_admin_action_leaves_one_audit_row(
    client: TestClient, make_session: SessionFactory, settings: Settings
) -> None:
    session = make_session()
    base = f"/api/v1/sessions/{session}"
    uploaded = client.post(
        f"{base}/photos",
        files=[
            ("files", ("a.jpg", faceless_jpeg(), "image/jpeg")),
            ("files", ("b.jpg", faceless_jpeg(), "image/jpeg")),
        ],
        headers=OPERATOR,
    )
    assert uploaded.status_code == 200
    first = uploaded.json()["files"][0]
    assert (
        client.post(
            f"{base}/photos/check", json={"sha256": [first["sha256"]]}, headers=OPERATOR
        ).status_code
        == 200
    )
    assert client.delete(f"{base}/photos/{first['photo_id']}", headers=OPERATOR).status_code == 204
    app_context = AppContext.build(settings)
    try:
        add_indexed_photo(app_context, session, face_jpeg(side=400), "face.jpg")
    finally:
        app_context.close()
    faces = client.get(f"{base}/photos", headers=OPERATOR).json()
    assert faces["total"] >= 1
    with create_engine(
        sqlalchemy_url(settings.database_url or ""), poolclass=pool.NullPool
    ).connect() as conn:
        face_id = conn.execute(
            text("SELECT id FROM faces WHERE session_id = :s LIMIT 1"), {"s": session}
        ).scalar_one()
    removed = client.delete(f"{base}/faces/{face_id}", headers=OPERATOR)
    assert removed.status_code == 200, removed.text
    assert client.delete(f"{base}/photos", headers=OPERATOR).status_code == 200
    # Reads and failed actions leave no row.
    assert client.get(f"{base}/index-status", headers=OPERATOR).status_code == 200
    assert client.delete(f"{base}/photos/{uuid.uuid4()}", headers=OPERATOR).status_code == 404
    assert client.delete(f"{base}/faces/{face_id}", headers=OPERATOR).status_code == 404

    assert settings.database_url is not None
    rows = audit_rows(settings.database_url, session)
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("operator", "upload"),
        ("operator", "check_photos"),
        ("operator", "delete_photo"),
        ("operator", "face_removal"),
        ("operator", "delete_session_photos"),
    ]
    assert rows[0]["counts"] == {"accepted": 2, "duplicates": 0, "rejected": 0}
    removal = rows[3]["counts"]
    assert removal == {"faces": 1, "photos": 1, "removal_id": removal["removal_id"]}
    uuid.UUID(removal["removal_id"])  # the removal the studio can review and restore
    assert rows[4]["counts"]["photos"] == 2


def test_key_creation_and_revocation_are_audited_and_the_key_shown_once(
    cli_env: dict[str, str], settings: Settings, make_session: SessionFactory, client: TestClient
) -> None:
    studio = uuid.uuid4()
    runner = CliRunner()
    created = runner.invoke(
        main,
        ["keys", "create", "--studio", str(studio), "--scope", "read", "--name", "ci"],
        env=cli_env,
    )
    assert created.exit_code == 0, created.output
    record = json.loads(created.stdout.splitlines()[0])
    key, key_id = record["key"], record["id"]
    assert key.startswith("fpk_")
    session = make_session(studio_id=studio)
    assert client.get(f"/api/v1/sessions/{session}/photos", headers=bearer(key)).status_code == 200

    listed = runner.invoke(main, ["keys", "list", "--studio", str(studio)], env=cli_env)
    assert listed.exit_code == 0, listed.output
    assert key not in listed.stdout  # never shown again, and only a hash is stored
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [key_id]
    revoked = runner.invoke(main, ["keys", "revoke", key_id], env=cli_env)
    assert revoked.exit_code == 0, revoked.output
    assert client.get(f"/api/v1/sessions/{session}/photos", headers=bearer(key)).status_code == 401

    engine = create_engine(sqlalchemy_url(settings.database_url or ""), poolclass=pool.NullPool)
    with engine.connect() as conn:
        actions = conn.execute(
            text("SELECT actor, action FROM audit_log WHERE counts->>'key_id' = :k ORDER BY id"),
            {"k": key_id},
        ).all()
        stored = conn.execute(
            text("SELECT key_hash FROM api_keys WHERE id = :k"), {"k": key_id}
        ).scalar_one()
    engine.dispose()
    assert [tuple(a) for a in actions] == [("operator", "key_create"), ("operator", "key_revoke")]
    assert key not in stored

    shown = runner.invoke(main, ["audit", "--limit", "5"], env=cli_env)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout.splitlines()[0])["action"] == "key_revoke"


def test_audit_rows_can_be_neither_changed_nor_deleted(settings: Settings) -> None:
    engine = create_engine(sqlalchemy_url(settings.database_url or ""), poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_log (actor, action) VALUES ('operator', 'probe')"))
    for statement in (
        "UPDATE audit_log SET actor = 'someone else' WHERE action = 'probe'",
        "DELETE FROM audit_log WHERE action = 'probe'",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()
