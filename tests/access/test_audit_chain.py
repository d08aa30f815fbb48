"""The audit log's hash chain: `facepass audit verify` finds a changed, deleted or truncated row;
with separate roles the live service's role can only INSERT and SELECT the log.

Each test gets a database of its own on the run's embedded server: tampering with the shared
one would break every later check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from facepass.access import audit
from facepass.access.audit_chain import verify_chain
from facepass.db import OwnDatabase, sqlalchemy_url
from facepass.embedded import EmbeddedPostgres, _url_for
from facepass.lab.liveserver import live_server
from facepass.migrations import migrate, upgrade
from facepass.pixora.demo import DEMO_SESSION_ID
from tests.conftest import ADMIN_TOKEN, REPO_ROOT
from tests.search.conftest import search_settings


@dataclass
class ChainDb:
    url: str
    admin_url: str

    def engine(self, url: str | None = None):  # type: ignore[no-untyped-def]
        return create_engine(sqlalchemy_url(url or self.url), poolclass=pool.NullPool)

    def write(self, rows: int, url: str | None = None) -> None:
        own = OwnDatabase(url or self.url, pool_size=1)
        try:
            for number in range(rows):
                with own.session() as db:
                    audit.record(
                        db, actor="operator", action=f"test_{number}", counts={"n": number}
                    )
        finally:
            own.dispose()

    def owner_sql(self, *statements: str) -> None:
        engine = self.engine()
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
        engine.dispose()

    def verify(self, url: str | None = None) -> dict[str, object]:
        engine = self.engine(url)
        with engine.connect() as conn:
            report = verify_chain(conn).as_json()
        engine.dispose()
        return report


@pytest.fixture
def chain_db(embedded_pg: EmbeddedPostgres) -> Iterator[ChainDb]:
    name = f"audit_chain_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        sqlalchemy_url(embedded_pg.admin_url), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = _url_for(embedded_pg.admin_url, user="postgres", database=name)
    upgrade(url)
    yield ChainDb(url, embedded_pg.admin_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


def _untriggered(*statements: str) -> tuple[str, ...]:
    """As the owner: switch the log's triggers off, tamper, switch them on again."""
    return (
        "ALTER TABLE audit_log DISABLE TRIGGER USER",
        *statements,
        "ALTER TABLE audit_log ENABLE TRIGGER USER",
    )


TAMPERING: dict[str, tuple[tuple[str, ...], str]] = {
    "changed": (
        _untriggered("""UPDATE audit_log SET counts = '{"n": 99}' WHERE seq = 3"""),
        "changed",
    ),
    "relinked": (
        _untriggered("UPDATE audit_log SET actor = 'guest' WHERE seq = 5"),
        "changed",
    ),
    "deleted": (_untriggered("DELETE FROM audit_log WHERE seq = 2"), "deleted"),
    "tail": (_untriggered("DELETE FROM audit_log WHERE seq >= 5"), "truncated"),
    "truncated": (_untriggered("TRUNCATE audit_log"), "truncated"),
    "head": (("DELETE FROM audit_chain_head",), "head_missing"),
}


def test_a_whole_chain_verifies(chain_db: ChainDb) -> None:
    chain_db.write(6)
    report = chain_db.verify()
    assert report["ok"] is True
    assert report["rows"] == report["head_rows"] == 6
    assert report["problems"] == []
    assert report["role_can_tamper"] is True  # one role (the embedded default): it owns the log


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_verify_reports_each_kind_of_tampering(chain_db: ChainDb, tampering: str) -> None:
    chain_db.write(6)
    statements, kind = TAMPERING[tampering]
    chain_db.owner_sql(*statements)
    report = chain_db.verify()
    assert report["ok"] is False
    kinds = {problem["kind"] for problem in report["problems"]}  # type: ignore[attr-defined]
    assert kind in kinds, report
    if kind == "head_missing":
        with pytest.raises(DBAPIError, match="chain head missing"):
            chain_db.write(1)  # nothing is written past a missing head
        return
    chain_db.write(1)  # the log goes on; the break stays visible
    assert chain_db.verify()["ok"] is False


def test_truncate_is_refused_like_update_and_delete(chain_db: ChainDb) -> None:
    chain_db.write(2)
    for statement in (
        "TRUNCATE audit_log",
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            chain_db.owner_sql(statement)
    assert chain_db.verify()["ok"] is True


def _cli(chain_db: ChainDb, pixora_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FACEPASS_")},
        "FACEPASS_LOG_JSON": "false",
        "FACEPASS_DATABASE_URL": chain_db.url,
        "MAIN_APP_DATABASE_URL": pixora_url,
        "PYTHONPATH": str(REPO_ROOT),
    }
    return subprocess.run(
        [sys.executable, "-c", "from facepass.cli import main; main()", "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        check=False,
    )


def test_the_cli_verifies_the_configured_database(chain_db: ChainDb, pixora_url: str) -> None:
    chain_db.write(3)
    whole = _cli(chain_db, pixora_url, "verify")
    assert whole.returncode == 0, whole.stderr
    assert json.loads(whole.stdout)["ok"] is True
    chain_db.owner_sql(*TAMPERING["deleted"][0])
    broken = _cli(chain_db, pixora_url, "verify")
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert [p["kind"] for p in report["problems"]] == ["deleted"]
    listed = _cli(chain_db, pixora_url, "--limit", "5")  # `facepass audit` still lists
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 2


def _refused(conn_factory: Callable[[], Connection], statement: str) -> bool:
    try:
        with conn_factory() as conn, conn.begin():
            conn.exec_driver_sql(statement)
    except DBAPIError as exc:
        return "permission denied" in str(exc) or "must be owner" in str(exc)
    return False


def test_the_live_service_role_can_only_insert_and_read_the_log(
    chain_db: ChainDb, pixora_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    role = f"fp_service_{uuid.uuid4().hex[:8]}"
    chain_db.owner_sql(f'CREATE ROLE "{role}" LOGIN')
    database = chain_db.url.partition("@/")[2].partition("?")[0]
    service_url = _url_for(chain_db.admin_url, user=role, database=database)
    settings = search_settings(
        service_url,
        pixora_url,
        tmp_path_factory.mktemp("audit-roles"),
        migration_database_url=chain_db.url,
    )
    with (
        live_server(settings, run_migrations=True, start_background=False) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http,
    ):
        answer = http.put(
            f"/api/v1/sessions/{DEMO_SESSION_ID}/branding", json={"studio_name": "Studio"}
        )
        assert answer.status_code == 200, answer.text
    service = chain_db.engine(service_url)
    try:
        for statement in (
            "UPDATE audit_log SET action = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER USER",
            "UPDATE audit_chain_head SET row_count = 0",
            "DELETE FROM alembic_version",
        ):
            assert _refused(service.connect, statement), statement
        with service.connect() as conn:
            written = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
        assert written >= 1  # the branding change, inserted by the service's own role
    finally:
        service.dispose()
    report = chain_db.verify(service_url)
    assert report["ok"] is True
    assert report["role"] == role
    assert report["role_can_tamper"] is False
    migrate(service_url, chain_db.url)  # again, as every start does: idempotent
    assert chain_db.verify(service_url)["ok"] is True
