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


def int_list(value: str) -> list[int]:
    """Numbers separated by commas (underscores allowed: 100_000)."""
    try:
        return [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {value!r}") from None
