"""Shared fixtures: the real services the tests talk to.

- FacePass's own database: embedded PostgreSQL 18 with pgvector, one server per test run, and
  on it one database per test module, cloned from a migrated template (no module sees
  another's rows).
- Pixora's stand-in: the machine's PostgreSQL 15 (127.0.0.1:5432), a fresh database per run
  with the brief's schema, read through a SELECT-only role, as production does.
- Redis: the machine's server, with a key prefix unique to the run.

Tests that use any of these are marked `services` (from the fixtures they ask for, or by hand);
`make test-fast` runs the others, with no PostgreSQL, Redis or browser.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text

from facepass.config import Settings
from facepass.db import sqlalchemy_url
from facepass.embedded import EmbeddedPostgres, _url_for, start_embedded_postgres
from facepass.pixora.demo import create_schema, grant_read_only, insert_demo_sessions

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
PIXORA_SERVER = os.environ.get(
    "FACEPASS_TEST_PIXORA_SERVER", "postgresql://postgres@127.0.0.1:5432"
)
REDIS_SERVER = os.environ.get("FACEPASS_TEST_REDIS", "redis://127.0.0.1:6379/0")
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
RUN_ID = uuid.uuid4().hex[:10]


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a clear message when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"evaluation data not found at {path} (see ../shared/data/README.md)")
    return path


def _admin_engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(sqlalchemy_url(url), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def embedded_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """One embedded PostgreSQL (with pgvector) for the whole run."""
    postgres = start_embedded_postgres(tmp_path_factory.mktemp("embedded"), with_demo_pixora=False)
    yield postgres
    postgres.stop()


OWN_DB_TEMPLATE = "facepass_template"


class ModuleDatabases:
    """Test modules' FacePass databases, cloned from the migrated template in a thread of their
    own: a couple are made ahead while tests run, and dropped behind (a DROP waits for a
    checkpoint, seconds on a loaded machine), so no module waits for either."""

    AHEAD = 2

    def __init__(self, admin_url: str, template: str) -> None:
        self._admin_url, self._template = admin_url, template
        self._numbers = itertools.count(1)
        self._ready: queue.Queue[str | BaseException] = queue.Queue()
        self._work: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="module-databases", daemon=True)
        self._thread.start()
        for _ in range(self.AHEAD):
            self._work.put(("create", ""))

    def _run(self) -> None:
        admin = _admin_engine(self._admin_url)
        try:
            while (job := self._work.get()) is not None:
                action, name = job
                try:
                    with admin.connect() as conn:
                        if action == "create":
                            name = f"facepass_module_{next(self._numbers)}"
                            conn.exec_driver_sql(
                                f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"'
                            )
                            self._ready.put(name)
                        else:
                            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
                except BaseException as exc:  # a module waiting for a database sees why
                    if action == "create":
                        self._ready.put(exc)
        finally:
            admin.dispose()

    def take(self) -> str:
        """A fresh database's URL (and the next one is started)."""
        self._work.put(("create", ""))
        name = self._ready.get(timeout=300)
        if isinstance(name, BaseException):
            raise name
        return _url_for(self._admin_url, user="postgres", database=name)

    def give_back(self, url: str) -> None:
        self._work.put(("drop", url.partition("@/")[2].partition("?")[0]))

    def close(self) -> None:
        """Stop after the work queued so far (leftovers go with the embedded server)."""
        self._work.put(None)
        self._thread.join(timeout=60)


@pytest.fixture(scope="session")
def own_db_template(embedded_pg: EmbeddedPostgres) -> Iterator[ModuleDatabases]:
    """A FacePass database migrated to head, which each test module's database is cloned from."""
    from facepass.migrations import upgrade

    admin = _admin_engine(embedded_pg.admin_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{OWN_DB_TEMPLATE}"')
    admin.dispose()
    upgrade(_url_for(embedded_pg.admin_url, user="postgres", database=OWN_DB_TEMPLATE))
    databases = ModuleDatabases(embedded_pg.admin_url, OWN_DB_TEMPLATE)
    yield databases
    databases.close()


@pytest.fixture(scope="module")
def own_db_url(own_db_template: ModuleDatabases) -> Iterator[str]:
    """This test module's own FacePass database, migrated (a clone of the template)."""
    url = own_db_template.take()
    yield url
    own_db_template.give_back(url)


@pytest.fixture(scope="package")
def package_db_url(own_db_template: ModuleDatabases) -> Iterator[str]:
    """One FacePass database for a test package whose world spans its modules (package scope)."""
    url = own_db_template.take()
    yield url
    own_db_template.give_back(url)


@pytest.fixture(scope="session")
def pixora_admin_url() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL 15 with the brief's schema and demo rows."""
    name = f"facepass_test_pixora_{RUN_ID}"
    admin = _admin_engine(f"{PIXORA_SERVER}/postgres")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    owner_url = f"{PIXORA_SERVER}/{name}"
    engine = create_engine(sqlalchemy_url(owner_url), poolclass=pool.NullPool)
    with engine.begin() as conn:
        create_schema(conn)
        insert_demo_sessions(conn)
        grant_read_only(conn, "facepass_test_reader")
    engine.dispose()
    yield owner_url
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()


@pytest.fixture(scope="session")
def pixora_url(pixora_admin_url: str) -> str:
    """How FacePass reads the stand-in: through the SELECT-only role."""
    return pixora_admin_url.replace("postgresql://postgres@", "postgresql://facepass_test_reader@")


@pytest.fixture
def settings(own_db_url: str, pixora_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: real databases and Redis, a private data directory."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=own_db_url,
        main_app_database_url=pixora_url,
        redis_url=REDIS_SERVER,
        redis_key_prefix=f"facepass-test:{RUN_ID}:{uuid.uuid4().hex[:6]}:",
        admin_token=ADMIN_TOKEN,
        media_signing_key="test-signing-key-0123456789abcdef",
        data_dir=tmp_path / "data",
        log_json=False,
        # Gallery photos search in these tests; the live path's tests set "live" (the default).
        selfie_policy_default="live_or_gallery",
    )


# What a test needs to be left out of `make test-fast`: any of these fixtures, or the mark.
SERVICE_FIXTURES = frozenset(
    {
        "embedded_pg",
        "own_db_template",
        "own_db_url",
        "package_db_url",
        "pixora_admin_url",
        "pixora_url",
        "settings",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `services` every test that reaches PostgreSQL, Redis or the browser."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SERVICE_FIXTURES or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.services)
