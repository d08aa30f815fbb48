"""`facepass people …`: the session's people from the command line."""

from __future__ import annotations

import json
import uuid

import click

from facepass.cli import main
from facepass.config import ConfigError, get_settings
from facepass.observability.logging import configure_logging


@main.group("people")
def people_group() -> None:
    """A session's faces grouped into people."""


@people_group.command("regroup")
@click.argument("session_id", type=click.UUID, required=False)
def regroup(session_id: uuid.UUID | None) -> None:
    """Regroup one session's people now (default: every session with faces); JSON report."""
    from facepass.cli.regroup_command import regroup_sessions

    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    try:
        report = regroup_sessions(settings, session_id)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(report))
