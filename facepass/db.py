"""FacePass's own database: the one place every write goes.

One engine and one session factory per process, built from settings; handlers receive a
session through the `DbSession` dependency and never build engines themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so Alembic migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of FacePass's own tables (never Pixora's)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def vector_from_send(data: bytes) -> npt.NDArray[np.float32]:
    """A pgvector value read in its binary form, `SELECT vector_send(embedding::vector(dim))`
    (int16 dim, int16 unused, big-endian float4s): far cheaper than parsing its text form,
    which for a few hundred 256-d vectors cost a search more CPU than everything else it did."""
    return np.frombuffer(data, dtype=">f4", offset=4).astype(np.float32)


def _multi_host(url: str) -> str:
    """libpq's multi-host form (`user@h1:5432,h2:5432/db`) as SQLAlchemy spells it
    (`user@/db?host=h1:5432&host=h2:5432`); psycopg hands the list to libpq, which tries the
    hosts in order. A single-host URL comes back unchanged."""
    scheme, _, rest = url.partition("://")
    netloc, slash, path_query = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if "," not in hosts:
        return url
    path, _, query = path_query.partition("?")
    params = [
        "host=" + quote(unquote(host), safe="/:[]") for host in hosts.split(",") if host.strip()
    ]
    if query:
        params.append(query)
    return f"{scheme}://{userinfo}{at}{slash or '/'}{path}?{'&'.join(params)}"


def sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs (the form the brief and operators use),
    accepting libpq's multi-host form for failover."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return _multi_host("postgresql+psycopg://" + url[len(prefix) :])
    return _multi_host(url)


class OwnDatabase:
    """Engine and session factory of FacePass's own PostgreSQL (with pgvector)."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.engine: Engine = create_engine(
            sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_recycle=1800,
            connect_args={"connect_timeout": 5, "application_name": "facepass"},
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
