"""The studio console's fixtures: the access tests' app, keys and Pixora sessions."""

from __future__ import annotations

from tests.access.conftest import client, make_key, own_db
from tests.pixora.fixtures import make_session, pixora_admin_engine

__all__ = ["client", "make_key", "make_session", "own_db", "pixora_admin_engine"]
