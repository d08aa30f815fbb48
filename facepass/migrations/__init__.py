"""Alembic migrations of FacePass's own database (Pixora's schema is never migrated by us)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring FacePass's own database to `revision` (run at every start; idempotent)."""
    command.upgrade(alembic_config(database_url), revision)


def migrate(database_url: str, migration_database_url: str | None = None) -> None:
    """Migrate as the owner (FACEPASS_MIGRATION_DATABASE_URL when set, else the service's own
    URL: one role, as the embedded default has); with separate roles, then give the service's
    role what it may do: read and write FacePass's tables, but only INSERT and SELECT the
    audit log, SELECT its chain head, and never write the migration version."""
    upgrade(migration_database_url or database_url)
    if migration_database_url and migration_database_url != database_url:
        grant_service_role(migration_database_url, database_url)


def grant_service_role(owner_url: str, service_url: str) -> None:
    from sqlalchemy import create_engine, pool
    from sqlalchemy.engine import make_url

    from facepass.db import sqlalchemy_url

    role = make_url(sqlalchemy_url(service_url)).username
    owner = make_url(sqlalchemy_url(owner_url)).username
    if not role or role == owner:
        return
    engine = create_engine(sqlalchemy_url(owner_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote
            schema = quote(conn.exec_driver_sql("SELECT current_schema()").scalar_one())
            who = quote(role)
            for statement in (
                f"GRANT USAGE ON SCHEMA {schema} TO {who}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {who}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
                f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {who}",
                f"REVOKE ALL ON audit_chain_head FROM {who}",
                f"GRANT SELECT ON audit_chain_head TO {who}",
                f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {who}",
            ):
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()
