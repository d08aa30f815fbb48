"""Start and stop the background work a process runs beside the API."""

from __future__ import annotations

from facepass.resources import Resources


def start_background_work(resources: Resources) -> None:
    """Start in-process indexing workers and the reconciler (embedded default)."""


def stop_background_work(resources: Resources) -> None:
    """Stop what start_background_work started, letting in-flight work finish."""
