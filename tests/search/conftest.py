"""Search fixtures: sessions of their own in Pixora's stand-in, photos indexed for real.

Photos go through the indexing pipeline itself (stored original, pending row, `index_photo`),
so the faces searched are exactly what a studio's upload would produce. The sessions are
module-scoped: indexing costs a few seconds, searching it costs milliseconds.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine, pool, text

from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.db import sqlalchemy_url
from facepass.demo_photos import DemoPhoto, astronaut_selfie, demo_photo_set
from tests.conftest import ADMIN_TOKEN, REDIS_SERVER, RUN_ID


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


_INSERT_SESSION = text(
    """
    INSERT INTO photo_sessions (id, name, photographer_id, studio_id, facepass_enabled)
    VALUES (:id, :name, gen_random_uuid(), gen_random_uuid(), :on)
    """
)


def create_pixora_session(
    pixora_admin_url: str, *, enabled: bool = True, name: str = ""
) -> uuid.UUID:
    """A new row in Pixora's stand-in (as a studio would have created it)."""
    session_id = uuid.uuid4()
    engine = create_engine(sqlalchemy_url(pixora_admin_url), poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            _INSERT_SESSION,
            {"id": session_id, "name": name or f"search {session_id.hex[:6]}", "on": enabled},
        )
    engine.dispose()
    return session_id


def add_indexed_photo(
    context: AppContext, session_id: uuid.UUID, data: bytes, filename: str
) -> uuid.UUID:
    """Store an original and index it through the real pipeline; returns the photo id."""
    from facepass.indexing.pipeline import IndexingContext, index_photo
    from facepass.lab.photos import add_photo

    photo_id = add_photo(context.own_db, context.storage, session_id, data, filename)
    indexing = IndexingContext(
        work=context.work, worker_id="search-tests", engine=context.engines.get()
    )
    assert index_photo(indexing, photo_id) == "indexed"
    return photo_id


@dataclass
class SeededSession:
    session_id: uuid.UUID
    astronaut_photos: set[uuid.UUID] = field(default_factory=set)
    other_photos: set[uuid.UUID] = field(default_factory=set)


@dataclass
class SearchWorld:
    """Two active sessions with the astronaut, one with FacePass off, and the settings."""

    settings: Settings
    main: SeededSession
    other: SeededSession
    disabled_session_id: uuid.UUID
    selfie: bytes
    photos: list[DemoPhoto]


def search_settings(
    own_db_url: str, pixora_url: str, data_dir: Path, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "database_url": own_db_url,
        "main_app_database_url": pixora_url,
        "redis_url": REDIS_SERVER,
        "redis_key_prefix": f"facepass-test:{RUN_ID}:{uuid.uuid4().hex[:6]}:",
        "admin_token": ADMIN_TOKEN,
        "media_signing_key": "test-signing-key-0123456789abcdef",
        "data_dir": data_dir,
        "log_json": False,
        # The product's default is "live" (camera and challenge); these fixtures search with
        # single photos, as a gallery would. Tests of the live path set "live" themselves.
        "selfie_policy_default": "live_or_gallery",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture(scope="module")
def world(
    own_db_url: str,
    pixora_url: str,
    pixora_admin_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SearchWorld]:
    settings = search_settings(
        own_db_url,
        pixora_url,
        tmp_path_factory.mktemp("search-data"),
        search_rate_limit="1000/minute",  # the limits have tests of their own
        search_device_rate_limit="1000/minute",
    )
    app_context = AppContext.build(settings)
    photos = demo_photo_set()
    main = SeededSession(create_pixora_session(pixora_admin_url))
    other = SeededSession(create_pixora_session(pixora_admin_url))
    for photo in photos:
        photo_id = add_indexed_photo(app_context, main.session_id, photo.data, photo.filename)
        (main.astronaut_photos if photo.shows_astronaut else main.other_photos).add(photo_id)
    # The same person in another session: never to be returned by a search of `main`.
    for photo in photos[:2]:
        other.astronaut_photos.add(
            add_indexed_photo(app_context, other.session_id, photo.data, photo.filename)
        )
    disabled = create_pixora_session(pixora_admin_url, enabled=False)
    yield SearchWorld(settings, main, other, disabled, jpeg(astronaut_selfie()), photos)
    app_context.close()
