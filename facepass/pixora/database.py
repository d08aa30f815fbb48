"""The connection to Pixora's database: read-only at the database level, time-bounded.

Every connection is opened with `default_transaction_read_only=on`, so any INSERT, UPDATE or
DELETE sent through it fails inside PostgreSQL whatever the role may do; a statement timeout
and a connect timeout bound every read; pre-ping replaces connections that died while idle,
so the service recovers by itself when Pixora comes back. TLS is the URL's `sslmode=` option.

Failover: MAIN_APP_DATABASE_URL may list several hosts in libpq's form
(`postgresql://user@h1:5432,h2:5432/db?target_session_attrs=any`; a standby serves, since
FacePass only reads). libpq tries them in order, each within the connect timeout; TCP
keepalives notice a host that vanished under an open connection within seconds; pre-ping and
one retry of a read whose connection died (facepass.pixora.validation) move to the next host.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from facepass.config import Settings
from facepass.db import sqlalchemy_url
from facepass.pixora.errors import pixora_errors

APPLICATION_NAME = "facepass-reader"


def connect_options(statement_timeout_ms: int) -> str:
    """libpq `options`: every transaction read-only, every statement time-bounded, UTC."""
    return (
        "-c default_transaction_read_only=on"
        f" -c statement_timeout={int(statement_timeout_ms)}"
        " -c idle_in_transaction_session_timeout=60000"
        " -c TimeZone=UTC"
    )


class PixoraDatabase:
    """Engine and session factory for reading Pixora; nothing written through it can commit."""

    def __init__(
        self,
        url: str,
        *,
        statement_timeout_ms: int = 3000,
        connect_timeout_s: int = 3,
        pool_size: int = 5,
    ) -> None:
        self.engine: Engine = create_engine(
            sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=max(1, connect_timeout_s),
            pool_pre_ping=True,
            pool_recycle=1800,
            # Reads need no BEGIN/ROLLBACK round trips: each statement is its own transaction,
            # and default_transaction_read_only makes every one of them read-only.
            isolation_level="AUTOCOMMIT",
            # Never echo the URL or statements: they would put credentials or data in logs.
            echo=False,
            hide_parameters=True,
            connect_args={
                # libpq rounds anything below 2 s up to 2 s.
                "connect_timeout": max(1, connect_timeout_s),
                "application_name": APPLICATION_NAME,
                "options": connect_options(statement_timeout_ms),
                # A host gone silent under an open connection is noticed in ~10 s, not hours.
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 2,
                "keepalives_count": 2,
            },
        )
        self.sessions = sessionmaker(self.engine, autoflush=False, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> PixoraDatabase:
        """Build from MAIN_APP_DATABASE_URL and the pixora_* settings."""
        if not settings.main_app_database_url:
            raise RuntimeError("MAIN_APP_DATABASE_URL is not set")
        return cls(
            settings.main_app_database_url,
            statement_timeout_ms=settings.pixora_statement_timeout_ms,
            connect_timeout_s=settings.pixora_connect_timeout_s,
            pool_size=settings.pixora_pool_size,
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only ORM session; driver errors surface as PixoraUnavailable."""
        with pixora_errors(), self.sessions() as session:
            yield session

    def ping(self) -> None:
        """Run `SELECT 1`; raises PixoraUnavailable when Pixora cannot answer."""
        with pixora_errors(), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def serving_host(self) -> str:
        """`host:port` of the server a pooled connection reaches now (the readiness check's
        answer to "which Pixora host serves"); raises PixoraUnavailable."""
        with pixora_errors(), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            info = conn.connection.dbapi_connection.info  # type: ignore[union-attr]
            return f"{info.host}:{info.port}"

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        # The URL is left out on purpose: it may carry a password.
        return "PixoraDatabase()"
