"""The indexing benchmark: real worker processes on a Redis queue, event-size photos.

Photos are stored and queued exactly as uploads are; N `facepass worker` processes (spawned,
each loading its own engine) index them. Throughput is measured from the moment the photos
are queued (workers already warm) until the last one is done; each worker reports its summed
time per stage and its peak resident memory.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import click
from PIL import Image, ImageEnhance
from sqlalchemy import func, select

from facepass.composition.context import WorkerContext
from facepass.composition.worker import spawn_worker
from facepass.config import Settings, get_settings
from facepass.lab.photos import add_photo
from facepass.lab.stats import peak_rss_mb
from facepass.observability.metrics import PHOTOS_INDEXED
from facepass.photos.models import FAILED, INDEXED, Face, Photo

logger = logging.getLogger(__name__)

EVENT_SIZE = (6000, 4000)  # 24 megapixels, 3:2, like a full-frame camera
SOURCE_EXTENSIONS = (".jpg", ".jpeg", ".png")
SOURCES_FILE = "SOURCES.txt"  # beside the event photos: the photos they were made from
REPO_ROOT = Path(__file__).resolve().parents[3]


class EventLike(Protocol):
    def set(self) -> None: ...


@dataclass
class WorkerProbe:
    """What the benchmark learns from a worker process: ready, stage timings, memory.

    The worker's `WorkerObserver` hook: pickled into the spawned worker, which sums its stage
    timings into `timings` and calls `ready()` and `stopped()`; the stats reach the benchmark
    through `stats_path`.
    """

    ready_event: EventLike
    stats_path: Path
    timings: dict[str, float] = field(default_factory=dict)
    cpu_s_at_ready: float = 0.0  # start-up (imports, engine load) is not indexing work

    def ready(self) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu_s_at_ready = usage.ru_utime + usage.ru_stime
        self.ready_event.set()

    def stopped(self) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats = {
            "timings_ms": self.timings,
            "photos": photos_indexed_here(),
            "peak_rss_mb": peak_rss_mb(),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "cpu_s_at_ready": self.cpu_s_at_ready,
        }
        self.stats_path.write_text(json.dumps(stats))


def photos_indexed_here() -> int:
    """Photos this process indexed or failed (from its own metrics)."""
    total = 0.0
    for metric in PHOTOS_INDEXED.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                total += sample.value
    return int(total)


def make_event_photos(sources: Sequence[Path], out_dir: Path, count: int, seed: int = 7) -> None:
    """Write `count` 24 MP JPEGs to out_dir: sources cropped to 3:2, up-scaled, varied.

    Existing files are kept (the set is made once and reused).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SOURCES_FILE).write_text("".join(f"{path.resolve()}\n" for path in sources))
    rng = random.Random(seed)
    for index in range(count):
        target = out_dir / f"event-{index:04d}.jpg"
        if target.exists():
            continue
        with Image.open(sources[index % len(sources)]) as source:
            image = source.convert("RGB")
        # Crop a slightly different 3:2 window each time so every photo has its own bytes.
        width, height = image.size
        crop_w = min(width, round(height * 1.5))
        crop_h = round(crop_w / 1.5)
        crop_w, crop_h = (
            round(crop_w * rng.uniform(0.93, 1.0)),
            round(crop_h * rng.uniform(0.93, 1.0)),
        )
        left = rng.randint(0, width - crop_w)
        top = rng.randint(0, height - crop_h)
        image = image.crop((left, top, left + crop_w, top + crop_h))
        image = image.resize(EVENT_SIZE, Image.Resampling.LANCZOS)
        image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.95, 1.05))
        image.save(target, "JPEG", quality=92)


def source_images(paths: Sequence[Path]) -> list[Path]:
    """Image files named directly or found in the given folders."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in SOURCE_EXTENSIONS)
        elif path.is_file():
            found.append(path)
    return found


@contextmanager
def bench_settings(base: Settings, work_dir: Path) -> Iterator[Settings]:
    """Settings of a private deployment: its own database (embedded unless configured),
    data directory, Redis namespace and queue."""
    with ExitStack() as stack:
        database_url = base.database_url
        if database_url is None:
            from facepass.embedded import start_embedded_postgres

            postgres = start_embedded_postgres(work_dir / "db", with_demo_pixora=False)
            stack.callback(postgres.stop)
            database_url = postgres.own_url
        from facepass.migrations import upgrade

        upgrade(database_url)
        run = uuid.uuid4().hex[:8]
        settings = base.model_copy(
            update={
                "database_url": database_url,
                # Pixora is never read by workers; any URL satisfies the context.
                "main_app_database_url": base.main_app_database_url or database_url,
                "redis_url": base.redis_url or "redis://127.0.0.1:6379/0",
                "redis_key_prefix": f"facepass-bench:{run}:",
                "queue_backend": "redis",
                "index_queue_name": f"bench-{run}",
                "storage_backend": "local",
                "data_dir": work_dir / "data",
                "log_level": "WARNING",
                "engine_threads": 1,
            }
        )
        stack.callback(_forget_redis_keys, settings)
        yield settings


def _forget_redis_keys(settings: Settings) -> None:
    from redis import Redis

    assert settings.redis_url is not None
    with Redis.from_url(settings.redis_url) as client:
        for key in client.scan_iter(f"{settings.redis_key_prefix}*"):
            client.delete(key)


def _store(work: WorkerContext, session_id: uuid.UUID, files: Sequence[Path]) -> list[uuid.UUID]:
    return [
        add_photo(work.own_db, work.storage, session_id, path.read_bytes(), path.name)
        for path in files
    ]


@dataclass
class Progress:
    indexed: int
    failures: dict[str, int]  # failure code -> photos
    faces: int

    @property
    def done(self) -> int:
        return self.indexed + sum(self.failures.values())


def _progress(work: WorkerContext, session_id: uuid.UUID) -> Progress:
    with work.own_db.session() as db:
        indexed = db.execute(
            select(func.count())
            .select_from(Photo)
            .where(Photo.session_id == session_id, Photo.status == INDEXED)
        ).scalar_one()
        failures = db.execute(
            select(Photo.failure_code, func.count())
            .where(Photo.session_id == session_id, Photo.status == FAILED)
            .group_by(Photo.failure_code)
        ).all()
        faces = db.execute(
            select(func.count()).select_from(Face).where(Face.session_id == session_id)
        ).scalar_one()
    return Progress(indexed, {str(code): int(n) for code, n in failures}, faces)


def run_once(
    settings: Settings, files: Sequence[Path], workers: int, stats_dir: Path, timeout_s: float
) -> dict[str, Any]:
    """Index `files` with `workers` warm worker processes; figures of that run."""
    from facepass.indexing.queue import build_index_queue

    work = WorkerContext.build(settings)
    queue = build_index_queue(work)
    work.on_close(queue.close)
    session_id = uuid.uuid4()
    try:
        photo_ids = _store(work, session_id, files)
        context = multiprocessing.get_context("spawn")
        probes = [
            WorkerProbe(context.Event(), stats_dir / f"{session_id}-{n}.json")
            for n in range(workers)
        ]
        children = [spawn_worker(1, settings, probe) for probe in probes]
        for probe in probes:
            if not probe.ready_event.wait(timeout=180):  # type: ignore[attr-defined]
                raise RuntimeError("a worker did not start")
        started = time.perf_counter()
        queue.enqueue(photo_ids)
        while True:
            progress = _progress(work, session_id)
            if progress.done >= len(photo_ids):
                break
            if time.perf_counter() - started > timeout_s:
                raise RuntimeError(f"only {progress.done}/{len(photo_ids)} photos done in time")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        for child in children:
            child.terminate()
        for child in children:
            child.join(timeout=60)
    finally:
        work.close()
    return _figures(workers, len(photo_ids), progress, elapsed, probes)


def _figures(
    workers: int, photos: int, progress: Progress, elapsed: float, probes: Sequence[WorkerProbe]
) -> dict[str, Any]:
    """Throughput counts indexed photos only; failed ones are reported, never counted as done."""
    stats = [json.loads(p.stats_path.read_text()) for p in probes if p.stats_path.exists()]
    totals: dict[str, float] = {}
    for stat in stats:
        for stage, ms in stat["timings_ms"].items():
            totals[stage] = totals.get(stage, 0.0) + ms
    cpu = sum(s["cpu_s"] - s["cpu_s_at_ready"] for s in stats)
    return {
        "workers": workers,
        "photos": photos,
        "indexed": progress.indexed,
        "failed": sum(progress.failures.values()),
        "failure_codes": progress.failures,
        "faces": progress.faces,
        "seconds": round(elapsed, 2),
        "photos_per_s": round(progress.indexed / elapsed, 3),
        "faces_per_s": round(progress.faces / elapsed, 2),
        "ms_per_photo": {stage: round(ms / photos, 1) for stage, ms in sorted(totals.items())},
        # CPU time does not depend on what else the machine runs: the load-free cost of a photo.
        "cpu_ms_per_photo": round(cpu * 1000 / photos, 1),
        "photos_per_worker": [s["photos"] for s in stats],
        "peak_rss_mb_per_worker": [s["peak_rss_mb"] for s in stats],
    }


def _sources_of(photos_dir: Path) -> list[str] | str:
    listed = photos_dir / SOURCES_FILE
    if not listed.exists():
        return "unknown (not made with --make-event-photos)"
    return listed.read_text().split()


def run_benchmark(
    base: Settings,
    photos_dir: Path,
    worker_counts: Sequence[int],
    count: int,
    timeout_s: float,
    models: Sequence[str] = (),
) -> dict[str, Any]:
    """Run the benchmark once per model and worker count on the same photos; adds the scaling
    over worker counts and, with several models, each one's photos/s relative to the first."""
    files = source_images([photos_dir])[:count]
    if not files:
        raise ValueError(f"no JPEG/PNG photos under {photos_dir}")
    load_before = [round(x, 2) for x in os.getloadavg()]
    megapixels = []
    for path in files[:5]:
        with Image.open(path) as image:
            megapixels.append(image.width * image.height / 1e6)
    runs = []
    with tempfile.TemporaryDirectory(prefix="facepass-bench-") as tmp:
        work = Path(tmp)
        with bench_settings(base, work) as settings:
            chosen: list[str | None] = list(models) or [None]
            for model in chosen:
                model_settings = (
                    settings
                    if model is None
                    else settings.model_copy(update={"engine_embedder": model})
                )
                for n in worker_counts:
                    figures = run_once(model_settings, files, n, work, timeout_s)
                    runs.append({"model_id": model or "configured", **figures})
    report: dict[str, Any] = {
        "cpu_cores": os.cpu_count(),
        "load_average_before": load_before,
        "photos_dir": str(photos_dir),
        "made_from": _sources_of(photos_dir),
        "megapixels": round(sum(megapixels) / len(megapixels), 1),
        "runs": runs,
    }
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    first_model = runs[0]["model_id"]
    single = next((r for r in runs if r["workers"] == 1 and r["model_id"] == first_model), None)
    if single is not None:
        report["scaling"] = {
            str(r["workers"]): round(r["photos_per_s"] / single["photos_per_s"], 2)
            for r in runs
            if r["model_id"] == first_model
        }
    if len({r["model_id"] for r in runs}) > 1:
        baseline = {r["workers"]: r for r in runs if r["model_id"] == first_model}
        report["ratio_to_first_model"] = {
            f"{r['model_id']} / {first_model}, {r['workers']} worker(s)": {
                "photos_per_s": _ratio(r["photos_per_s"], baseline[r["workers"]]["photos_per_s"]),
                "cpu_ms_per_photo": _ratio(
                    r["cpu_ms_per_photo"], baseline[r["workers"]]["cpu_ms_per_photo"]
                ),
            }
            for r in runs
            if r["model_id"] != first_model and r["workers"] in baseline
        }
    return report


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def command(
    photos_dir: Path,
    worker_counts: list[int],
    count: int,
    sources: tuple[Path, ...],
    timeout: float,
    models: Sequence[str] = (),
) -> None:
    """`facepass bench index`: make the event photos if asked, run, print the JSON report."""
    if sources:
        if photos_dir.resolve().is_relative_to(REPO_ROOT):
            raise click.UsageError("write event photos outside the repository (e.g. /tmp/event)")
        found = source_images(sources)
        if not found:
            raise click.UsageError("no JPEG/PNG photos among the --make-event-photos sources")
        make_event_photos(found, photos_dir, count)
    report = run_benchmark(get_settings(), photos_dir, worker_counts, count, timeout, models)
    click.echo(json.dumps(report, indent=2))
