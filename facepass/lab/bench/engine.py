"""Speed of the engine per stage (decode, detect, align, embed) on real or synthetic photos."""

from __future__ import annotations

import dataclasses
import io
import multiprocessing
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
from PIL import Image

from facepass.engine.config import EngineConfig
from facepass.engine.engine import FaceEngine
from facepass.engine_config import engine_config_from_settings
from facepass.lab.output import emit
from facepass.lab.stats import peak_rss_mb

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}
STAGES = ("decode", "detect", "align", "embed")


@dataclass(frozen=True)
class BenchResult:
    photos: int
    faces_per_photo: float
    ms_per_stage: dict[str, float]  # median over photos
    ms_per_photo: float  # median
    photos_per_second: float  # one process, one thread
    # Median CPU time of the process per analysis: unlike wall time, barely moved by what else
    # the machine runs (the figure to compare models by on a shared machine).
    cpu_ms_per_photo: float = 0.0


def synthetic_group_photo(width: int = 6000, height: int = 4000, faces: int = 12) -> bytes:
    """A 24-megapixel JPEG with `faces` copies of scikit-image's public-domain astronaut at
    face sizes from about 90 to 400 px, like a studio group shot."""
    from skimage import data  # the demo/test extra; public-domain portrait

    portrait = Image.fromarray(data.astronaut())  # type: ignore[no-untyped-call]
    canvas = Image.new("RGB", (width, height), (92, 96, 104))
    rng = np.random.default_rng(7)
    columns = int(np.ceil(np.sqrt(faces * width / height)))
    rows = int(np.ceil(faces / columns))
    cell_w, cell_h = width // columns, height // rows
    for index in range(faces):
        # The astronaut's face is ~100 px wide in the 512 px portrait.
        face_px = float(rng.uniform(90, 400))
        side = max(64, min(int(512 * face_px / 100), cell_w, cell_h))
        tile = portrait.resize((side, side), Image.Resampling.BILINEAR)
        column, row = index % columns, index // columns
        x = column * cell_w + int(rng.integers(0, max(1, cell_w - side)))
        y = row * cell_h + int(rng.integers(0, max(1, cell_h - side)))
        canvas.paste(tile, (x, y))
    noise = rng.normal(0, 4, (height, width, 3))
    noisy = np.clip(np.asarray(canvas, np.float32) + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def run(
    engine: FaceEngine,
    photos: Sequence[bytes],
    repeat: int = 1,
    min_face_fraction: float | None = None,
) -> BenchResult:
    """Analyse every photo `repeat` times (after one warm-up) as indexing does (faces down to
    `min_face_fraction`, default the engine's photo_min_face_fraction) and report medians."""
    fraction = (
        engine.config.photo_min_face_fraction if min_face_fraction is None else min_face_fraction
    )
    engine.analyze(photos[0], min_face_fraction=fraction)
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    totals: list[float] = []
    cpu: list[float] = []
    faces: list[int] = []
    for _ in range(repeat):
        for photo in photos:
            timings: dict[str, float] = {}
            started, cpu_started = time.perf_counter(), time.process_time()
            analysis = engine.analyze(photo, timings=timings, min_face_fraction=fraction)
            totals.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            faces.append(len(analysis.faces))
            for stage in STAGES:
                per_stage[stage].append(timings.get(stage, 0.0))
    median_total = statistics.median(totals)
    return BenchResult(
        photos=len(totals),
        faces_per_photo=statistics.mean(faces),
        ms_per_stage={stage: round(statistics.median(v), 1) for stage, v in per_stage.items()},
        ms_per_photo=round(median_total, 1),
        photos_per_second=round(1000 / median_total, 3),
        cpu_ms_per_photo=round(statistics.median(cpu), 1),
    )


# The models compared by default: the one sessions indexed before the current default (whose
# sessions keep it until re-indexed), and the current default.
PREVIOUS_DEFAULT = "dlib-resnet-v1"


def models_to_compare(models: str | None) -> list[str]:
    """The --models list, or the previous and the current default embedder."""

    if models:
        return [m.strip() for m in models.split(",") if m.strip()]
    return list(dict.fromkeys([PREVIOUS_DEFAULT, engine_config_from_settings().embedder]))


def _measure(
    config: EngineConfig,
    data: Sequence[bytes],
    repeat: int,
    source: str,
    min_face_fraction: float | None,
) -> dict[str, object]:
    """One model's figures, measured in a process of its own (so its peak memory is its own)."""
    face_engine = FaceEngine.load(config)
    result = run(face_engine, data, repeat, min_face_fraction)
    embed_per_face = result.ms_per_stage["embed"] / max(result.faces_per_photo, 1.0)
    return {
        "model_id": face_engine.model_id,
        "photos": source,
        "analyses": result.photos,
        "faces_per_photo": round(result.faces_per_photo, 2),
        "ms_per_stage": result.ms_per_stage,
        "ms_per_photo": result.ms_per_photo,
        "embed_ms_per_face": round(embed_per_face, 2),
        # With one ONNX Runtime thread, per second of one core.
        "embed_faces_per_s_per_thread": round(1000 / embed_per_face, 1) if embed_per_face else None,
        "photos_per_second": result.photos_per_second,
        "cpu_ms_per_photo": result.cpu_ms_per_photo,
        "threads": config.intra_op_threads,
        "flip_average": face_engine.embedder.flip_average,
        "alignment": getattr(face_engine.embedder, "recipe", None),
        "peak_rss_mb": peak_rss_mb(),
        "min_face_fraction": min_face_fraction or face_engine.config.photo_min_face_fraction,
    }


def command(
    photos: Path | None,
    repeat: int,
    threads: int | None,
    no_flip: bool,
    alignment: str | None,
    min_face_fraction: float | None = None,
    models: str | None = None,
) -> None:
    """`facepass bench engine`: per model, median ms per stage and per photo, one JSON line
    each, then the ratio of the last model to the first on the same photos."""
    config = engine_config_from_settings()
    if threads is not None:
        config = dataclasses.replace(config, intra_op_threads=threads)
    if no_flip:
        config = dataclasses.replace(config, flip_average=False)
    if alignment is not None:
        config = dataclasses.replace(config, alignment=alignment)
    if photos is None:
        data = [synthetic_group_photo()]
        source = "synthetic 6000x4000 JPEG, 12 faces of 90-400 px"
    else:
        files = sorted(p for p in photos.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        if not files:
            raise click.UsageError(f"No photos in {photos}.")
        data = [p.read_bytes() for p in files]
        source = str(photos)
    load_before = [round(x, 2) for x in os.getloadavg()]
    context = multiprocessing.get_context("spawn")
    summaries = []
    for model in models_to_compare(models):
        model_config = dataclasses.replace(config, embedder=model)
        with context.Pool(1) as pool:
            summary = pool.apply(_measure, (model_config, data, repeat, source, min_face_fraction))
        stages = summary["ms_per_stage"]
        assert isinstance(stages, dict)
        for stage, ms in stages.items():
            emit({"model_id": summary["model_id"], "stage": stage, "ms_median": ms})
        emit({"summary": summary})
        summaries.append(summary)
    if len(summaries) >= 2:
        first, last = summaries[0], summaries[-1]
        emit(
            {
                "ratio": {
                    "of": last["model_id"],
                    "to": first["model_id"],
                    "photos_per_second": _ratio(
                        last["photos_per_second"], first["photos_per_second"]
                    ),
                    "cpu_ms_per_photo": _ratio(last["cpu_ms_per_photo"], first["cpu_ms_per_photo"]),
                    "embed_ms_per_face": _ratio(
                        last["embed_ms_per_face"], first["embed_ms_per_face"]
                    ),
                    "peak_rss_mb": _ratio(last["peak_rss_mb"], first["peak_rss_mb"]),
                },
                "load_average": {
                    "before": load_before,
                    "after": [round(x, 2) for x in os.getloadavg()],
                },
            }
        )


def _ratio(a: object, b: object) -> float | None:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or not b:
        return None
    return round(float(a) / float(b), 3)
