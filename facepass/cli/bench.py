"""`facepass bench …`: the commands; their work is done by the lab (facepass.lab.bench), loaded
only when a command runs so the service never imports it."""

from __future__ import annotations

from pathlib import Path

import click

from facepass.cli.groups import analysis_cache_option, bench_group, data_option, int_list


@bench_group.command("engine")
@click.option(
    "--photos",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of photos; default: a synthetic 24-megapixel group JPEG (12 faces).",
)
@click.option("--repeat", default=3, show_default=True, help="Passes over the photos.")
@click.option("--threads", default=None, type=int, help="ONNX Runtime threads (default: settings).")
@click.option("--no-flip", is_flag=True, help="Embed without flip averaging (half the cost).")
@click.option(
    "--alignment",
    "--views",
    "alignment",
    help="dlib chip views, as for `facepass eval lfw --alignment` (default: the embedder's).",
)
@click.option(
    "--min-face-fraction",
    type=float,
    default=None,
    help="Smallest face looked for, as a fraction of the shorter side (default: indexing's"
    " photo_min_face_fraction, 1/80; 0.02 is the policy before group photos were measured).",
)
@click.option(
    "--models",
    help="Embedders to compare on the same photos, comma-separated (default: dlib-resnet-v1, "
    "the previous default, and the configured one).",
)
def engine(
    photos: Path | None,
    repeat: int,
    threads: int | None,
    no_flip: bool,
    alignment: str | None,
    min_face_fraction: float | None,
    models: str | None,
) -> None:
    """Decode, detect, align and embed as indexing does: median ms per stage and per photo,
    per model (each in a process of its own, with its peak memory), and the ratio of the last
    to the first."""
    from facepass.lab.bench.engine import command

    command(photos, repeat, threads, no_flip, alignment, min_face_fraction, models)


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
@click.option(
    "--models",
    default=None,
    help="Embedders to index the same photos with, comma-separated (default: dlib-resnet-v1, "
    "the previous default, and the configured one); the report gives each one's ratio to the "
    "first.",
)
def bench_index(
    photos_dir: Path,
    workers: str,
    count: int,
    sources: tuple[Path, ...],
    timeout: float,
    models: str | None,
) -> None:
    """Index event-size photos with warm worker processes on Redis, per model; prints JSON
    figures."""
    from facepass.lab.bench.engine import models_to_compare
    from facepass.lab.bench.index import command

    counts = [int(n) for n in workers.split(",") if n.strip()]
    command(photos_dir, counts, count, sources, timeout, models_to_compare(models))


@bench_group.command("validate")
@click.option("--requests", "requests", type=int, default=3000, show_default=True)
@click.option("--concurrency", type=int, default=1, show_default=True, help="Parallel clients.")
def bench_validate(requests: int, concurrency: int) -> None:
    """Requests/s and p50/p99 latency of GET /api/v1/sessions/validate/{id}, cached and not."""
    from facepass.lab.bench.validate import command

    command(requests, concurrency)


@bench_group.command("soak")
@click.option("--requests", "requests", type=int, default=1000, show_default=True)
@click.option("--concurrency", type=int, default=8, show_default=True, help="Parallel clients.")
@click.option(
    "--rest",
    "rest_s",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds of quiet before the final RSS is read.",
)
def bench_soak(requests: int, concurrency: int, rest_s: float) -> None:
    """Hostile selfies (issue 12) against a live server: its RSS start/peak/final and errors."""
    from facepass.lab.bench.soak import command

    command(requests, concurrency, rest_s)


@bench_group.command("search")
@click.option(
    "--faces",
    default="2000,30000",
    show_default=True,
    help="Target session sizes (faces): LFW people, then filler copies where LFW runs out.",
)
@click.option(
    "--total-faces",
    type=int,
    default=100_000,
    show_default=True,
    help="Faces in the table: distractor sessions fill it up.",
)
@click.option(
    "--lfw-photos",
    type=int,
    default=6000,
    show_default=True,
    help="LFW photos embedded (whole people, in name order); all: 13233.",
)
@click.option(
    "--queries", type=int, default=1000, show_default=True, help="Vector searches per size."
)
@click.option(
    "--requests", "requests", type=int, default=1000, show_default=True, help="Per size and guests."
)
@click.option("--concurrency", default="20", show_default=True, help="Guests at once (comma list).")
@click.option("--ef-search", default="40,100,200", show_default=True, help="hnsw.ef_search values.")
@data_option("Folder holding lfw/ (../shared/data).")
@analysis_cache_option("Where face analyses are cached between runs (shared with eval retrieval).")
@click.option(
    "--api-processes",
    default="1,2",
    show_default=True,
    help="API process counts the guests are measured against (comma list; the client takes"
    " turns between them, as a load balancer would).",
)
@click.option(
    "--profile-requests",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="Searches, one at a time, behind each stage profile (1 and 3 selfies, 1024 and 512 px).",
)
@click.option("--seed", type=int, default=0, show_default=True)
def bench_search(
    faces: str,
    total_faces: int,
    lfw_photos: int,
    queries: int,
    requests: int,
    concurrency: str,
    ef_search: str,
    data_dir: Path,
    cache_dir: Path,
    api_processes: str,
    profile_requests: int,
    seed: int,
) -> None:
    """Vector search (exact vs HNSW recall), then whole search requests on real LFW faces: the
    per-stage profile of one search (wall and CPU ms) and guests at once (JSON)."""
    from facepass.lab.bench.search_command import command

    command(
        int_list(faces),
        total_faces,
        lfw_photos,
        queries,
        requests,
        int_list(concurrency),
        int_list(ef_search),
        data_dir,
        cache_dir,
        seed,
        int_list(api_processes),
        profile_requests,
    )


@bench_group.command("page")
@click.option("--runs", type=int, default=5, show_default=True, help="Visits per network.")
def bench_page(runs: int) -> None:
    """Guest page weight and tap-to-results time in headless Chromium, local and Fast 3G."""
    from facepass.lab.bench.page import command

    command(runs)


@bench_group.command("studio")
@click.option("--photos", type=int, default=200, show_default=True, help="Photos uploaded.")
@click.option(
    "--target", type=int, default=2000, show_default=True, help="Photos to extrapolate to."
)
def bench_studio(photos: int, target: int) -> None:
    """The studio console from an empty session to a printed poster: clicks and seconds."""
    from facepass.lab.bench.studio import command

    command(photos, target)


@bench_group.command("people")
@click.option("--faces", default="10000,100000", show_default=True, help="Session sizes.")
@click.option("--recall", is_flag=True, help="Also compare the cell scan with the exact scan.")
def bench_people(faces: str, recall: bool) -> None:
    """Grouping a session's faces into people: seconds and peak memory per session size."""
    from facepass.lab.bench.people import command

    command(int_list(faces), recall)


@bench_group.command("attack")
@click.option(
    "--duration",
    "duration_s",
    type=click.FloatRange(1, 3600),
    default=300.0,
    show_default=True,
    help="Seconds the attacking client keeps going.",
)
@click.option(
    "--photos", type=click.IntRange(4, 200), default=25, show_default=True, help="Event photos."
)
@data_option("Evaluation data with LFW and CFP (the event's guests, the attacker's live pair).")
def bench_attack(duration_s: float, photos: int, data_dir: Path) -> None:
    """Issue 16's attack: one client from one live selfie collects and erases the other guests.

    Its own searches send its genuine live pair; for the other guests it answers each challenge
    with crops cut out of the photos it obtained (a turned crop where the event holds one).
    Prints JSON: other guests' faces removed, photos obtained that do not show the client
    (goal: 0 and 0), refusals by code, 429s, the answers it got, and any server error."""
    from facepass.lab.bench.attack import command

    command(duration_s, photos, data_dir)
