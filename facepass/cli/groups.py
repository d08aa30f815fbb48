"""The command groups that several modules add commands to."""

from __future__ import annotations

import click


@click.group("faces")
def faces_group() -> None:
    """Find, embed and compare faces in image files (JSON on stdout)."""


@click.group("eval")
def eval_group() -> None:
    """Accuracy evaluations on real labelled photos (../shared/data)."""


@click.group("bench")
def bench_group() -> None:
    """Speed and memory benchmarks that print JSON figures."""


@click.group("models")
def models_group() -> None:
    """The face model registry: list, add and download model packs."""
