"""`facepass faces detect|compare`: the face engine on image files, JSON lines on stdout."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import click

from facepass.cli.groups import faces_group
from facepass.engine import (
    DetectedFace,
    FaceEngine,
    ImageAnalysis,
    ImageError,
    cosine_distance,
)
from facepass.engine_config import engine_config_from_settings


def emit(record: dict[str, Any]) -> None:
    """One JSON object per line on stdout."""
    click.echo(json.dumps(record, ensure_ascii=False))


def face_record(face: DetectedFace, with_embedding: bool) -> dict[str, Any]:
    """A detected face as JSON-ready data."""
    quality = face.quality
    record: dict[str, Any] = {
        "box": [round(v, 1) for v in face.box.as_list()],
        "landmarks": [[round(x, 1), round(y, 1)] for x, y in face.landmarks],
        "score": round(quality.detection_score, 4),
        "size_px": round(quality.size_px, 1),
        "sharpness": round(quality.sharpness, 1),
        "yaw": round(quality.yaw, 1),
        "pitch": round(quality.pitch, 1),
        "roll": round(quality.roll, 1),
        "skip_reasons": [str(r) for r in quality.skip_reasons],
    }
    if with_embedding and face.embedding is not None:
        record["embedding"] = [round(float(v), 6) for v in face.embedding]
    return record


def _analyze_file(engine: FaceEngine, path: Path, embed: bool) -> ImageAnalysis:
    return engine.analyze(path.read_bytes(), embed=embed)


@faces_group.command("detect")
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--embed", is_flag=True, help="Include each face's embedding.")
def detect(images: tuple[Path, ...], embed: bool) -> None:
    """Find every face in IMAGE... : one JSON line per image, then a summary line."""
    engine = FaceEngine.load(engine_config_from_settings())
    started = time.perf_counter()
    faces = failed = 0
    for path in images:
        try:
            analysis = _analyze_file(engine, path, embed)
        except (ImageError, OSError) as exc:
            failed += 1
            code = exc.code if isinstance(exc, ImageError) else "UNREADABLE_FILE"
            emit({"image": str(path), "error": {"code": code, "detail": _detail(exc)}})
            continue
        faces += len(analysis.faces)
        emit(
            {
                "image": str(path),
                "width": analysis.width,
                "height": analysis.height,
                "model_id": analysis.model_id,
                "faces": [face_record(f, embed) for f in analysis.faces],
            }
        )
    emit(
        {
            "summary": {
                "images": len(images),
                "failed": failed,
                "faces": faces,
                "seconds": round(time.perf_counter() - started, 3),
            }
        }
    )
    if failed:
        raise SystemExit(1)


def _detail(exc: Exception) -> str:
    return exc.detail if isinstance(exc, ImageError) else str(exc)


def _largest_face_embedding(engine: FaceEngine, path: Path) -> tuple[Any, str | None]:
    try:
        analysis = _analyze_file(engine, path, True)
    except (ImageError, OSError) as exc:
        return None, exc.code if isinstance(exc, ImageError) else "UNREADABLE_FILE"
    if not analysis.faces:
        return None, "NO_FACE_FOUND"
    return analysis.faces[0].embedding, None  # faces come largest first


@faces_group.command("compare")
@click.argument("images", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--pairs",
    "pairs_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with header image_a,image_b (paths relative to the CSV's folder or absolute).",
)
@click.option("--threshold", type=float, help="Cosine distance for 'same'; default: the model's.")
def compare(images: tuple[Path, ...], pairs_file: Path | None, threshold: float | None) -> None:
    """Is the largest face of IMAGE_A the same person as that of IMAGE_B? (or every --pairs row)"""
    if pairs_file is not None:
        if images:
            raise click.UsageError("Give either two images or --pairs, not both.")
        pairs = _read_pairs(pairs_file)
    elif len(images) == 2:
        pairs = [(images[0], images[1])]
    else:
        raise click.UsageError("Give two images, or --pairs FILE.csv.")
    engine = FaceEngine.load(engine_config_from_settings())
    limit = engine.match_threshold if threshold is None else threshold
    cache: dict[Path, tuple[Any, str | None]] = {}
    same_count = errors = 0
    started = time.perf_counter()
    for image_a, image_b in pairs:
        for path in (image_a, image_b):
            if path not in cache:
                cache[path] = _largest_face_embedding(engine, path)
        (emb_a, err_a), (emb_b, err_b) = cache[image_a], cache[image_b]
        record: dict[str, Any] = {"image_a": str(image_a), "image_b": str(image_b)}
        if emb_a is None or emb_b is None:
            errors += 1
            record["error"] = {"image_a": err_a, "image_b": err_b}
        else:
            distance = cosine_distance(emb_a, emb_b)
            same = distance <= limit
            same_count += same
            record.update({"distance": round(distance, 5), "same_person": same})
        emit(record)
    emit(
        {
            "summary": {
                "pairs": len(pairs),
                "same_person": same_count,
                "errors": errors,
                "threshold": limit,
                "model_id": engine.model_id,
                "seconds": round(time.perf_counter() - started, 3),
            }
        }
    )
    if errors:
        raise SystemExit(1)


def _read_pairs(path: Path) -> list[tuple[Path, Path]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"image_a", "image_b"} <= set(reader.fieldnames):
            raise click.UsageError(f"{path} needs a header image_a,image_b.")
        base = path.parent
        return [(base / row["image_a"], base / row["image_b"]) for row in reader]
