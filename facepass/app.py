"""create_app(): the FastAPI application, its lifespan, routers and error handling."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from facepass import __version__
from facepass.api.dependencies import install, set_context
from facepass.composition.context import AppContext
from facepass.config import Settings, get_settings
from facepass.errors import install_error_handlers
from facepass.observability.allocator import return_large_buffers_to_the_os
from facepass.observability.middleware import RequestContextMiddleware
from facepass.openapi import install_openapi

logger = logging.getLogger(__name__)

DESCRIPTION = """
FacePass lets a guest of a Pixora photo session find every photo that shows them with a selfie.

Every non-2xx answer has one shape:
`{"error": {"code": "...", "detail": "...", "request_id": "..."}}`
(the brief's validation answers keep their own 200 shape). Admin endpoints take
`Authorization: Bearer <FACEPASS_ADMIN_TOKEN>` (operators) or a studio key (`fpk_...`, only for
that studio's sessions, within its scope: GET needs `read`, POST `upload`, DELETE `delete`).
"""


def create_app(
    settings: Settings | None = None,
    *,
    context: AppContext | None = None,
    run_migrations: bool = True,
    start_background: bool = True,
) -> FastAPI:
    """Build the application. Tests pass their own settings, or a context they close."""
    settings = settings or get_settings()
    settings.require_production_ready()
    return_large_buffers_to_the_os()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = (
            context if context is not None else await asyncio.to_thread(AppContext.build, settings)
        )
        set_context(app, owned)
        from facepass.photos.upload import sweep_stale_spool

        await asyncio.to_thread(sweep_stale_spool, settings.data_dir / "tmp")
        if run_migrations:
            from facepass.migrations import migrate

            assert settings.database_url is not None
            await asyncio.to_thread(migrate, settings.database_url, settings.migration_database_url)
        if start_background:
            await asyncio.to_thread(owned.start_background)
        try:
            yield
        finally:
            if start_background:
                await asyncio.to_thread(owned.stop_background)
            if context is None:
                await asyncio.to_thread(owned.close)
            set_context(app, None)

    docs = settings.docs_enabled
    app = FastAPI(
        title="FacePass",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        # Starlette's slash redirect builds its Location from the Host header; no route here
        # has a slash twin, so a stray slash is a plain 404.
        redirect_slashes=False,
    )
    install(app, settings)
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    install_openapi(app)

    from facepass.api.access import router as access_router
    from facepass.api.event_page import router as event_router
    from facepass.api.guest_family import router as family_router
    from facepass.api.guest_mail import router as mail_router
    from facepass.api.guest_page import router as web_router
    from facepass.api.liveness import router as liveness_router
    from facepass.api.media import router as media_router
    from facepass.api.ops import router as ops_router
    from facepass.api.people import router as people_router
    from facepass.api.photos import router as photos_router
    from facepass.api.privacy import router as privacy_router
    from facepass.api.removals import router as removals_router
    from facepass.api.search import router as search_router
    from facepass.api.sessions import router as sessions_router
    from facepass.api.studio import router as studio_router

    app.include_router(ops_router)
    app.include_router(sessions_router)
    app.include_router(photos_router)
    app.include_router(people_router)
    # Each router's place in this list is its routes' place in the app (and /openapi.json).
    app.include_router(media_router)
    app.include_router(search_router)
    app.include_router(removals_router)
    app.include_router(privacy_router)
    app.include_router(liveness_router)
    app.include_router(access_router)
    app.include_router(event_router)
    app.include_router(studio_router)
    app.include_router(web_router)
    app.include_router(mail_router)
    app.include_router(family_router)
    return app
