"""The lab's output: one JSON object per line on stdout, for scripts to read."""

from __future__ import annotations

import json
from typing import Any

import click


def emit(record: dict[str, Any]) -> None:
    """One JSON object per line on stdout."""
    click.echo(json.dumps(record, ensure_ascii=False))
