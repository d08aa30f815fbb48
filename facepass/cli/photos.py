"""`facepass import`, `facepass worker` and `facepass reindex`."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import click

from facepass.cli import main
from facepass.config import ConfigError, get_settings
from facepass.observability.logging import configure_logging

DEFAULT_URL = "http://127.0.0.1:8000"


def _progress(total: int, description: str, unit: str = "B") -> Any:
    from tqdm import tqdm

    # To stderr, so stdout stays machine-readable; hidden when stderr is not a terminal.
    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=unit == "B",
        file=sys.stderr,
        disable=None,
        leave=False,
    )


@main.command("import")
@click.argument("session_id", type=click.UUID)
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--url", default=DEFAULT_URL, show_default=True, help="FacePass's base URL.")
@click.option("--token", default=None, help="Admin token (default: FACEPASS_ADMIN_TOKEN).")
@click.option("--wait", is_flag=True, help="Follow indexing until every photo is done.")
@click.option("--parallel", default=4, show_default=True, type=click.IntRange(1, 32))
@click.option("--timeout", default=300.0, show_default=True, help="Seconds per request.")
def import_photos(
    session_id: uuid.UUID,
    directory: Path,
    url: str,
    token: str | None,
    wait: bool,
    parallel: int,
    timeout: float,
) -> None:
    """Upload every photo under DIRECTORY to a session (resumable; JSON summary last)."""
    import httpx

    from facepass.photos.importer import ImportAborted, Importer, ImportSummary, find_images

    token = token or os.environ.get("FACEPASS_ADMIN_TOKEN")
    if not token:
        raise click.UsageError("an admin token is needed: --token or FACEPASS_ADMIN_TOKEN")
    started = time.monotonic()
    summary = ImportSummary(session_id=str(session_id))
    paths = find_images(directory)
    summary.files = len(paths)
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=parallel + 2)
    with httpx.Client(
        base_url=url.rstrip("/"), headers=headers, timeout=timeout, limits=limits
    ) as client:
        importer = Importer(client, session_id, parallel=parallel)
        try:
            with _progress(sum(p.stat().st_size for p in paths), "hashing") as bar:
                photos = importer.hash_all(directory, paths, bar.update)
            summary.bytes = sum(p.size for p in photos)
            known = importer.already_uploaded(photos)
            todo = [p for p in photos if p.sha256 not in known]
            summary.already_there = len(photos) - len(todo)
            with _progress(sum(p.size for p in todo), "uploading") as bar:
                importer.upload(todo, summary, bar.update)
            if wait:
                with _progress(0, "indexing", unit="photo") as bar:

                    def show(status: dict[str, Any]) -> None:
                        photos_by = status["photos"]
                        bar.total = photos_by["total"]
                        bar.n = photos_by["indexed"] + photos_by["failed"]
                        bar.refresh()

                    summary.index_status = importer.wait_for_index(show)
        except ImportAborted as exc:
            summary.seconds = round(time.monotonic() - started, 2)
            click.echo(f"import stopped: {exc}", err=True)
            click.echo(json.dumps({**summary.as_dict(), "aborted": str(exc)}))
            sys.exit(1)
    summary.seconds = round(time.monotonic() - started, 2)
    for error in summary.errors:
        click.echo(f"refused {error['file']}: {error['code']} ({error['detail']})", err=True)
    click.echo(json.dumps(summary.as_dict()))
    if summary.rejected:
        sys.exit(2)


@main.command("worker")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 256))
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve Prometheus metrics (worker process i on this port + i).",
)
def worker(processes: int, threads: int, metrics_port: int | None) -> None:
    """Index photos from the Redis/RabbitMQ queue (start more, anywhere, to go faster)."""
    from facepass.composition.worker import run_workers

    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    try:
        run_workers(settings, processes, threads, metrics_port)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("reindex")
@click.argument("session_id", type=click.UUID, required=False)
@click.option(
    "--every-photo",
    is_flag=True,
    help="Also photos the configured model already indexed (after an engine upgrade that"
    " finds more faces: the close pass, turned faces).",
)
def reindex(session_id: uuid.UUID | None, every_photo: bool) -> None:
    """Rebuild faces with the configured model, session by session (searches keep working)."""
    from facepass.cli.reindex_command import reindex_sessions

    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    try:
        report = reindex_sessions(settings, session_id, every_photo=every_photo)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(report))
