"""`facepass demo` (the embedded default) and `facepass serve` (a configured deployment)."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from facepass.cli import main
from facepass.config import ConfigError, Settings, get_settings
from facepass.http.proxies import proxy_options
from facepass.observability.logging import configure_logging


def _print_banner(settings: Settings, base_url: str, *, token_from_env: bool) -> None:
    from facepass.pixora.demo import (
        DEMO_SESSION_ID,
        DEMO_STUDIO_ID,
        DISABLED_SESSION_ID,
        OTHER_STUDIO_SESSION_ID,
    )

    # A token the operator set is theirs to know; only one generated here is worth printing.
    shown_token = "(FACEPASS_ADMIN_TOKEN)" if token_from_env else settings.admin_token
    token_argument = '"$FACEPASS_ADMIN_TOKEN"' if token_from_env else settings.admin_token
    lines = [
        "",
        "FacePass is running (embedded default).",
        f"  Guest page (demo session):  {base_url}/s/{DEMO_SESSION_ID}",
        f"  Studio console:             {base_url}/studio  (sign in with a studio key or the "
        "admin token)",
        f"  Session with FacePass off:  {base_url}/s/{DISABLED_SESSION_ID}",
        f"  Another studio's session:   {base_url}/s/{OTHER_STUDIO_SESSION_ID}",
        f"  Validate:                   {base_url}/api/v1/sessions/validate/{DEMO_SESSION_ID}",
        f"  API documentation:          {base_url}/docs",
        f"  Admin token:                {shown_token}",
        f"  Data directory:             {Path(settings.data_dir).resolve()}",
        "",
        "Import a folder of your own photos into the demo session (in another terminal):",
        f"  .venv/bin/facepass import {DEMO_SESSION_ID} PATH/TO/PHOTOS "
        f"--url {base_url} --token {token_argument} --wait",
        "",
        "A studio key that reaches only the demo studio's sessions (printed once):",
        f"  .venv/bin/facepass keys create --studio {DEMO_STUDIO_ID} "
        f"--data-dir {Path(settings.data_dir).resolve()}",
        "",
        "Press Ctrl-C to stop.",
        "",
    ]
    click.echo("\n".join(lines))


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@main.command("demo")
@click.option("--host", default=None, help="Interface to listen on (default FACEPASS_HOST).")
@click.option("--port", type=int, default=None, help="Port (default FACEPASS_PORT or 8000).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the embedded database, photos and secrets live (default .facepass-data).",
)
@click.option("--no-seed", is_flag=True, help="Do not add the demo photos to the demo session.")
def demo(host: str | None, port: int | None, data_dir: Path | None, no_seed: bool) -> None:
    """Run FacePass on its embedded default: PostgreSQL with pgvector, demo Pixora data."""
    import uvicorn

    from facepass.app import create_app
    from facepass.embedded import embedded_settings

    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    data_dir = data_dir or settings.data_dir
    overrides: dict[str, object] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    settings = settings.model_copy(update=overrides)
    # SIGTERM (systemd, docker stop, Kubernetes, timeout) stops the demo as Ctrl-C does. uvicorn
    # handles it while serving, then raises it again once it has shut down; with the default
    # action that would kill the process before the embedded PostgreSQL is stopped.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    token_from_env = settings.admin_token is not None
    settings, postgres = embedded_settings(settings, data_dir)
    base_url = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    try:
        app = create_app(settings)
        if not no_seed:
            from facepass.demo_photos import schedule_demo_photos

            schedule_demo_photos(app)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            **proxy_options(settings),
        )
        server = uvicorn.Server(config)
        _print_banner(settings, base_url, token_from_env=token_from_env)
        server.run()
    finally:
        postgres.stop()
        click.echo("FacePass stopped; the embedded database was shut down cleanly.")


@main.command("serve")
@click.option("--host", default=None, help="Interface to listen on (default FACEPASS_HOST).")
@click.option("--port", type=int, default=None, help="Port (default FACEPASS_PORT or 8000).")
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="API processes on this machine (default FACEPASS_API_PROCESSES, 1); they share the"
    " cores: each gets cores/N engine slots.",
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the API against configured databases (MAIN_APP_DATABASE_URL, FACEPASS_DATABASE_URL)."""
    import os

    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    try:
        settings.require_production_ready()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if settings.database_url is None or settings.main_app_database_url is None:
        raise click.ClickException(
            "MAIN_APP_DATABASE_URL and FACEPASS_DATABASE_URL must be set for `facepass serve`; "
            "use `facepass demo` for the embedded default"
        )
    processes = workers or settings.api_processes
    # Each process sizes its engine gate from this (facepass.search.crowd.engine_slots).
    os.environ["FACEPASS_API_PROCESSES"] = str(processes)
    uvicorn.run(
        "facepass.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=processes,
        log_config=None,
        **proxy_options(settings),
    )
