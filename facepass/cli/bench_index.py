"""`facepass bench index`: indexing throughput, time per stage and memory of worker processes."""

from __future__ import annotations

import json
from pathlib import Path

import click

from facepass.cli.groups import bench_group
from facepass.config import get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


@bench_group.command("index")
@click.option(
    "--photos",
    "photos_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of event photos (made there first with --make-event-photos).",
)
@click.option(
    "--workers",
    default="1,2",
    show_default=True,
    help="Worker process counts to measure, comma-separated.",
)
@click.option("--count", default=40, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--make-event-photos",
    "sources",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Group photos (files or folders) to up-scale into --count 24 MP JPEGs in --photos.",
)
@click.option("--timeout", default=1800.0, show_default=True, help="Seconds per run.")
def bench_index(
    photos_dir: Path, workers: str, count: int, sources: tuple[Path, ...], timeout: float
) -> None:
    """Index event-size photos with warm worker processes on Redis; prints JSON figures."""
    from facepass.indexing.bench import make_event_photos, run_benchmark, source_images

    worker_counts = [int(n) for n in workers.split(",") if n.strip()]
    if sources:
        if photos_dir.resolve().is_relative_to(REPO_ROOT):
            raise click.UsageError("write event photos outside the repository (e.g. /tmp/event)")
        found = source_images(sources)
        if not found:
            raise click.UsageError("no JPEG/PNG photos among the --make-event-photos sources")
        make_event_photos(found, photos_dir, count)
    report = run_benchmark(get_settings(), photos_dir, worker_counts, count, timeout)
    click.echo(json.dumps(report, indent=2))
