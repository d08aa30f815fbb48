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
