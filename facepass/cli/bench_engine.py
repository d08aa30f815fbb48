"""`facepass bench engine`: milliseconds per stage of the face engine, and photos per second."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from facepass.cli.faces import emit, engine_config_from_settings
from facepass.cli.groups import bench_group
from facepass.engine import FaceEngine
from facepass.engine.evaluation import bench

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}


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
def engine(
    photos: Path | None, repeat: int, threads: int | None, no_flip: bool, alignment: str | None
) -> None:
    """Decode, detect, align and embed: median ms per stage and per photo (one process)."""
    config = engine_config_from_settings()
    if threads is not None:
        config = dataclasses.replace(config, intra_op_threads=threads)
    if no_flip:
        config = dataclasses.replace(config, flip_average=False)
    if alignment is not None:
        config = dataclasses.replace(config, alignment=alignment)
    face_engine = FaceEngine.load(config)
    if photos is None:
        data = [bench.synthetic_group_photo()]
        source = "synthetic 6000x4000 JPEG, 12 faces of 90-400 px"
    else:
        files = sorted(p for p in photos.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        if not files:
            raise click.UsageError(f"No photos in {photos}.")
        data = [p.read_bytes() for p in files]
        source = str(photos)
    result = bench.run(face_engine, data, repeat)
    for stage, ms in result.ms_per_stage.items():
        emit({"stage": stage, "ms_median": ms})
    emit(
        {
            "summary": {
                "photos": source,
                "analyses": result.photos,
                "faces_per_photo": round(result.faces_per_photo, 2),
                "ms_per_photo": result.ms_per_photo,
                "embed_ms_per_face": round(
                    result.ms_per_stage["embed"] / max(result.faces_per_photo, 1.0), 2
                ),
                "photos_per_second": result.photos_per_second,
                "threads": config.intra_op_threads,
                "flip_average": config.flip_average,
                "alignment": getattr(face_engine.embedder, "recipe", None),
                "model_id": face_engine.model_id,
            }
        }
    )
