"""`facepass keys create|list|revoke`, `facepass audit [verify]`, `facepass purge [--dry-run]`.

Each works against the configured database (FACEPASS_DATABASE_URL, MAIN_APP_DATABASE_URL),
or with `--data-dir DIR` against the embedded demo's data directory (running or not).
"""

from __future__ import annotations

import json
import uuid
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from facepass.cli import main
from facepass.cli.bootstrap import worker_context
from facepass.composition.context import WorkerContext
from facepass.config import get_settings

DATA_DIR_OPTION = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Use the embedded demo's data directory instead of the configured databases.",
)


def context_for(data_dir: Path | None) -> AbstractContextManager[WorkerContext]:
    """Parts on the configured databases, or on the embedded server under `data_dir`."""
    return worker_context(get_settings(), data_dir)


def _emit(record: dict[str, Any]) -> None:
    click.echo(json.dumps(record, ensure_ascii=False, default=str))


@main.group("keys")
def keys_group() -> None:
    """Studio API keys: accepted as Bearer on the admin routes of that studio's sessions."""


@keys_group.command("create")
@click.option("--studio", "studio_id", type=click.UUID, required=True, help="Pixora studio_id.")
@click.option(
    "--scope",
    type=click.Choice(["read", "upload", "delete"]),
    default="upload",
    show_default=True,
    help="read: GET routes; upload: also POST; delete: also DELETE.",
)
@click.option("--name", default="", help="A label to recognise the key by.")
@DATA_DIR_OPTION
def create(studio_id: uuid.UUID, scope: str, name: str, data_dir: Path | None) -> None:
    """Create a key and print it ONCE (only its hash is stored)."""
    from facepass.access import audit
    from facepass.access.keys import create_key

    with context_for(data_dir) as work, work.own_db.session() as db:
        info, key = create_key(db, work.settings, studio_id, scope, name)
        audit.record(
            db,
            actor=audit.OPERATOR,
            action="key_create",
            counts={"key_id": str(info.id), "studio_id": str(studio_id), "scope": scope},
        )
    _emit({**asdict(info), "key": key})
    click.echo("Store this key now: it cannot be shown again.", err=True)


@keys_group.command("list")
@click.option("--studio", "studio_id", type=click.UUID, default=None, help="Only this studio's.")
@DATA_DIR_OPTION
def list_command(studio_id: uuid.UUID | None, data_dir: Path | None) -> None:
    """One JSON line per key (never the key itself)."""
    from facepass.access.keys import list_keys

    with context_for(data_dir) as work, work.own_db.session() as db:
        for info in list_keys(db, studio_id):
            _emit(asdict(info))


@keys_group.command("revoke")
@click.argument("key_id", type=click.UUID)
@DATA_DIR_OPTION
def revoke(key_id: uuid.UUID, data_dir: Path | None) -> None:
    """Revoke a key at once."""
    from facepass.access import audit
    from facepass.access.keys import revoke_key

    with context_for(data_dir) as work, work.own_db.session() as db:
        info = revoke_key(db, key_id)
        if info is None:
            raise click.ClickException(f"no key {key_id}")
        audit.record(
            db,
            actor=audit.OPERATOR,
            action="key_revoke",
            counts={"key_id": str(key_id), "studio_id": str(info.studio_id)},
        )
    _emit(asdict(info))


@main.group("audit", invoke_without_command=True)
@click.option("--session", "session_id", type=click.UUID, default=None, help="Only this session.")
@click.option("--limit", type=int, default=100, show_default=True)
@DATA_DIR_OPTION
@click.pass_context
def audit_command(
    ctx: click.Context, session_id: uuid.UUID | None, limit: int, data_dir: Path | None
) -> None:
    """The audit log, newest first, one JSON line per action; `audit verify` checks its chain."""
    if ctx.invoked_subcommand is not None:
        return
    from facepass.access import audit

    with context_for(data_dir) as work, work.own_db.session() as db:
        for entry in audit.entries(db, session_id=session_id, limit=limit):
            _emit(entry)


@audit_command.command("verify")
@DATA_DIR_OPTION
def audit_verify(data_dir: Path | None) -> None:
    """Recompute the audit log's hash chain: one JSON object; exit 1 when a row was changed,
    deleted or truncated (each listed), 0 when the chain is whole."""
    from facepass.access.audit_chain import verify_chain

    with context_for(data_dir) as work, work.own_db.engine.connect() as conn:
        report = verify_chain(conn)
    _emit(report.as_json())
    if not report.ok:
        raise SystemExit(1)


@main.command("purge")
@click.option("--dry-run", is_flag=True, help="Only show what is due; delete nothing.")
@click.option("--session", "session_ids", type=click.UUID, multiple=True, help="Only these.")
@DATA_DIR_OPTION
def purge_command(dry_run: bool, session_ids: tuple[uuid.UUID, ...], data_dir: Path | None) -> None:
    """Run a retention pass now (the sync worker runs one every FACEPASS_RETENTION_INTERVAL_S)."""
    from facepass.pixora.database import PixoraDatabase
    from facepass.privacy.retention import purge

    with context_for(data_dir) as work:
        pixora = PixoraDatabase.from_settings(work.settings)
        try:
            report = purge(
                work.own_db,
                pixora,
                work.storage,
                work.settings,
                dry_run=dry_run,
                session_ids=list(session_ids) or None,
            )
        finally:
            pixora.dispose()
    _emit(report.as_json())
