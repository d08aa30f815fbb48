"""`get_pixora_db`: the brief's generator dependency yielding a read-only ORM session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from facepass.pixora.database import PixoraDatabase


def get_pixora_db(request: Request) -> Iterator[Session]:
    """FastAPI dependency: a read-only session of Pixora's database for one request.

    Driver errors raised while the handler uses it become 503 PIXORA_UNAVAILABLE.
    """
    database: PixoraDatabase = request.app.state.resources.pixora
    with database.session() as session:
        yield session


PixoraDb = Annotated[Session, Depends(get_pixora_db)]
