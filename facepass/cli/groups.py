"""The command groups that several modules add commands to."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

# Where the evaluations' photos live by default: ../shared/data beside the repository.
DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
# The face analyses cache that eval retrieval, eval people, eval calibrate and bench search share.
ANALYSIS_CACHE = Path(".facepass-data/eval-cache")


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


def data_option(help: str) -> Callable[[F], F]:
    """`--data`: the folder of evaluation photos (default ../shared/data)."""
    return click.option(
        "--data",
        "data_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_DATA,
        show_default=True,
        help=help,
    )


def analysis_cache_option(help: str | None = None) -> Callable[[F], F]:
    """`--cache`: where face analyses are kept between evaluation and benchmark runs."""
    return click.option(
        "--cache",
        "cache_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=ANALYSIS_CACHE,
        show_default=True,
        help=help,
    )
