"""The one bootstrap of a command that works on the databases: settings, migrations, parts.

On the configured databases, or on the embedded server (the embedded default, or `data_dir`,
the demo's data directory, running or not); FacePass's own database migrated as its owner; a
`WorkerContext` of the process's parts, closed (and the embedded handle dropped) at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click

from facepass.composition.context import WorkerContext
from facepass.config import ConfigError, Settings


@contextmanager
def worker_context(settings: Settings, data_dir: Path | None = None) -> Iterator[WorkerContext]:
    """The parts a command needs, on migrated databases; click's error when they are not set."""
    from facepass.migrations import migrate

    with ExitStack() as cleanup:
        if data_dir is not None or settings.embedded:
            from facepass.embedded import embedded_settings

            settings, postgres = embedded_settings(settings, data_dir or settings.data_dir)
            cleanup.callback(postgres.stop)  # only drops this process's handle on the server
        if settings.database_url is None or settings.main_app_database_url is None:
            raise click.ClickException(
                "set FACEPASS_DATABASE_URL and MAIN_APP_DATABASE_URL, or pass --data-dir"
            )
        try:
            settings.require_production_ready()
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        migrate(settings.database_url, settings.migration_database_url)
        work = WorkerContext.build(settings)
        cleanup.callback(work.close)
        yield work
