"""The long-lived parts of a FacePass process, built once, and the FastAPI dependencies on them.

`AppContext.build(settings)` opens every part the API needs (the databases, cache, storage,
queue, rate limiter, media signer, guests' tokens and engine gate) and `close()` closes them in
reverse order; the app's lifespan builds one, stores it as `app.state.context`, starts its
background threads and closes it at shutdown. Handlers name the parts they use through the
`Annotated` aliases below (`OwnDbDep`, `SettingsDep`, ...), and tests override exactly one with
`app.dependency_overrides`. Worker processes build a smaller `WorkerContext`.

Only this module reads `app.state` (tests/test_dependencies.py enforces it).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from anyio import CapacityLimiter
from fastapi import Depends, FastAPI, Request
from redis import Redis
from sqlalchemy.orm import Session

from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.engine import FaceEngine
from facepass.indexing.queue import IndexQueue
from facepass.photos.storage import PhotoStorage
from facepass.pixora.cache import ValidationCache
from facepass.pixora.database import PixoraDatabase
from facepass.search.ratelimit import RateLimiter
from facepass.search.signing import MediaSigner
from facepass.search.tokens import GuestTokens

if TYPE_CHECKING:
    from facepass.indexing.lifecycle import BackgroundWork

logger = logging.getLogger(__name__)

Closer = Callable[[], None]


class Engines:
    """The process's face engine for the configured models, loaded on first use (once)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine: FaceEngine | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def get(self) -> FaceEngine:
        with self._lock:
            if self._engine is None:
                from facepass.engine import get_engine
                from facepass.engine_config import engine_config

                self._engine = get_engine(engine_config(self._settings))
            return self._engine


def require_databases(settings: Settings) -> None:
    if settings.database_url is None or settings.main_app_database_url is None:
        raise RuntimeError("both database URLs must be set (the embedded default sets them)")


def own_database(settings: Settings) -> OwnDatabase:
    assert settings.database_url is not None
    return OwnDatabase(settings.database_url, pool_size=settings.database_pool_size)


def redis_client(settings: Settings) -> Redis | None:
    """A Redis client when configured; short timeouts so an outage never stalls requests."""
    if not settings.redis_url:
        return None
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=0.25,
        socket_timeout=0.25,
        health_check_interval=15,
    )


def signing_secret(settings: Settings) -> str:
    """The media signing key; without one (development only) a random key for this process."""
    secret = settings.media_signing_key
    if not secret:
        # Production refuses to start without a key; here links just die with the process.
        logger.warning("FACEPASS_MEDIA_SIGNING_KEY is not set; using a random per-process key")
        secret = secrets.token_urlsafe(32)
    return secret


@dataclass(frozen=True)
class WorkerContext:
    """What indexing and the background passes need in one process: built once, closed once."""

    settings: Settings
    own_db: OwnDatabase
    storage: PhotoStorage
    engines: Engines
    closers: list[Closer] = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> WorkerContext:
        from facepass.photos.storage import build_storage

        require_databases(settings)
        own_db = own_database(settings)
        return cls(settings, own_db, build_storage(settings), Engines(settings), [own_db.dispose])

    def on_close(self, closer: Closer) -> None:
        """Close `closer` with the context (before the parts opened earlier)."""
        self.closers.append(closer)

    def close(self) -> None:
        _close_all(self.closers)


@dataclass
class AppContext:
    """Every long-lived part of the API process; `background` is set while its threads run."""

    settings: Settings
    work: WorkerContext
    pixora: PixoraDatabase
    redis: Redis | None
    validation_cache: ValidationCache
    rate_limiter: RateLimiter
    index_queue: IndexQueue
    signer: MediaSigner
    tokens: GuestTokens
    engine_gate: CapacityLimiter
    closers: list[Closer] = field(default_factory=list, repr=False)
    background: BackgroundWork | None = None

    @property
    def own_db(self) -> OwnDatabase:
        return self.work.own_db

    @property
    def storage(self) -> PhotoStorage:
        return self.work.storage

    @property
    def engines(self) -> Engines:
        return self.work.engines

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        """Open every part; a part that fails to build closes those opened before it."""
        from facepass.indexing.queue import build_index_queue
        from facepass.pixora.cache import build_validation_cache
        from facepass.search.ratelimit import build_rate_limiter

        work = WorkerContext.build(settings)
        closers: list[Closer] = [work.close]
        try:
            pixora = PixoraDatabase.from_settings(settings)
            closers.append(pixora.dispose)
            redis = redis_client(settings)
            if redis is not None:
                closers.append(redis.close)
            queue = build_index_queue(work)
            closers.append(queue.close)
            secret = signing_secret(settings)
            return cls(
                settings=settings,
                work=work,
                pixora=pixora,
                redis=redis,
                validation_cache=build_validation_cache(settings, redis),
                rate_limiter=build_rate_limiter(settings),
                index_queue=queue,
                signer=MediaSigner(secret, settings.media_url_ttl_s),
                tokens=GuestTokens(secret),
                # At most one engine call per core at once: more would only slow every guest.
                engine_gate=CapacityLimiter(max(1, os.cpu_count() or 1)),
                closers=closers,
            )
        except BaseException:
            _close_all(closers)
            raise

    def start_background(self) -> None:
        """Start in-process indexing (embedded default), the reconciler and the sync passes."""
        from facepass.indexing.lifecycle import start_background_work

        if self.background is None:
            self.background = start_background_work(self)

    def stop_background(self) -> None:
        from facepass.indexing.lifecycle import stop_background_work

        background, self.background = self.background, None
        if background is not None:
            stop_background_work(background)

    def close(self) -> None:
        """Stop the background threads, then close what was opened, newest first."""
        self.stop_background()
        _close_all(self.closers)


def _close_all(closers: list[Closer]) -> None:
    """Close newest first; one failing closer never blocks the rest."""
    while closers:
        closer = closers.pop()
        try:
            closer()
        except Exception:  # shutdown must go on
            logger.warning("error while closing a resource", exc_info=True)


# FastAPI dependencies: each reads the one context the lifespan built (async: no thread hop).


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
DbSession = Annotated[Session, Depends(get_db)]
PixoraDb = Annotated[Session, Depends(get_pixora_db)]
