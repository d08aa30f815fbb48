"""The FastAPI dependencies on the application's context: one `Annotated` alias per part.

The app's lifespan (facepass.app) builds one `AppContext` (facepass.composition.context) and
stores it as `app.state.context`. Handlers name the parts they use through the aliases below
(`OwnDbDep`, `SettingsDep`, ...), and tests override exactly one with `app.dependency_overrides`.

Only this module reads `app.state` (tests/test_dependencies.py enforces it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from anyio import CapacityLimiter
from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session

from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.engine_config import Engines
from facepass.guest.challenge import ChallengeStore
from facepass.guest.ratelimit import RateLimiter
from facepass.guest.signing import MediaSigner
from facepass.guest.tokens import GuestTokens
from facepass.indexing.queue import IndexQueue
from facepass.photos.storage import PhotoStorage
from facepass.pixora.cache import ValidationCache
from facepass.pixora.database import PixoraDatabase
from facepass.pixora.schemas import SessionInfo
from facepass.pixora.validation import active_session, existing_session
from facepass.search.crowd import SearchCrowd

# Each reads the one context the lifespan built (async: no thread hop).


def context_of(request: Request) -> AppContext:
    """The application's context (set by create_app's lifespan)."""
    return app_context(request.app)


def app_context(app: FastAPI) -> AppContext:
    """The context create_app's lifespan built for `app`."""
    context: AppContext | None = app.state.context
    if context is None:
        raise RuntimeError("the application's lifespan has not started")
    return context


def install(app: FastAPI, settings: Settings) -> None:
    """Give the application its settings (served before the lifespan has built the context)."""
    app.state.settings = settings
    app.state.context = None


def set_context(app: FastAPI, context: AppContext | None) -> None:
    app.state.context = context


async def get_settings_dep(request: Request) -> Settings:
    context: AppContext | None = request.app.state.context
    settings: Settings = context.settings if context is not None else request.app.state.settings
    return settings


async def get_own_db(request: Request) -> OwnDatabase:
    return context_of(request).own_db


async def get_pixora(request: Request) -> PixoraDatabase:
    return context_of(request).pixora


async def get_storage(request: Request) -> PhotoStorage:
    return context_of(request).storage


async def get_queue(request: Request) -> IndexQueue:
    return context_of(request).index_queue


async def get_engines(request: Request) -> Engines:
    return context_of(request).engines


async def get_validation_cache(request: Request) -> ValidationCache:
    return context_of(request).validation_cache


async def get_rate_limiter(request: Request) -> RateLimiter:
    return context_of(request).rate_limiter


async def get_signer(request: Request) -> MediaSigner:
    return context_of(request).signer


async def get_tokens(request: Request) -> GuestTokens:
    return context_of(request).tokens


async def get_engine_gate(request: Request) -> CapacityLimiter:
    return context_of(request).engine_gate


async def get_search_crowd(request: Request) -> SearchCrowd:
    return context_of(request).search_crowd


async def get_challenges(request: Request) -> ChallengeStore:
    return context_of(request).challenges


def get_db(own_db: OwnDbDep) -> Iterator[Session]:
    """A session of FacePass's own database for one request."""
    with own_db.sessions() as session:
        yield session


def get_pixora_db(pixora: PixoraDep) -> Iterator[Session]:
    """A read-only session of Pixora's database for one request.

    Driver errors raised while the handler uses it become 503 PIXORA_UNAVAILABLE.
    """
    with pixora.session() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
OwnDbDep = Annotated[OwnDatabase, Depends(get_own_db)]
PixoraDep = Annotated[PixoraDatabase, Depends(get_pixora)]
StorageDep = Annotated[PhotoStorage, Depends(get_storage)]
QueueDep = Annotated[IndexQueue, Depends(get_queue)]
EngineDep = Annotated[Engines, Depends(get_engines)]
ValidationCacheDep = Annotated[ValidationCache, Depends(get_validation_cache)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
SignerDep = Annotated[MediaSigner, Depends(get_signer)]
TokensDep = Annotated[GuestTokens, Depends(get_tokens)]
EngineGateDep = Annotated[CapacityLimiter, Depends(get_engine_gate)]
SearchCrowdDep = Annotated[SearchCrowd, Depends(get_search_crowd)]
ChallengesDep = Annotated[ChallengeStore, Depends(get_challenges)]
DbSession = Annotated[Session, Depends(get_db)]
PixoraDb = Annotated[Session, Depends(get_pixora_db)]


def require_existing_session(
    session_id: uuid.UUID, pixora: PixoraDep, cache: ValidationCacheDep
) -> SessionInfo:
    """Dependency: the session, or 404 SESSION_NOT_FOUND (503 when Pixora is down)."""
    return existing_session(pixora, cache, session_id)


def require_active_session(
    session_id: uuid.UUID, pixora: PixoraDep, cache: ValidationCacheDep
) -> SessionInfo:
    """Dependency: a session with FacePass on, or 404 SESSION_NOT_FOUND / 403 FACEPASS_DISABLED."""
    return active_session(pixora, cache, session_id)


ActiveSession = Annotated[SessionInfo, Depends(require_active_session)]
ExistingSession = Annotated[SessionInfo, Depends(require_existing_session)]
