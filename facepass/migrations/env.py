"""Alembic environment: the URL comes from the caller, never from a committed ini file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from facepass.db import Base, sqlalchemy_url
from facepass.locks import AdvisoryLock, wait_for_lock

url = context.config.attributes.get("database_url")
if not url:
    raise RuntimeError("run migrations through facepass.migrations.upgrade(url)")

engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        wait_for_lock(connection, AdvisoryLock.MIGRATIONS)
        context.run_migrations()
engine.dispose()
