"""`facepass eval lfw|detect`: the engine's accuracy on real labelled photos (../shared/data)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from facepass.cli.faces import emit, engine_config_from_settings
from facepass.cli.groups import eval_group
from facepass.engine import FaceEngine
from facepass.engine.evaluation import detection, lfw


@eval_group.command("lfw")
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="LFW folder: pairs.txt and images_deepfunneled/NAME/NAME_0001.jpg.",
)
@click.option(
    "--pairs",
    "pairs_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Pairs file (default DATA/pairs.txt, View 2; pairsDevTest.txt is View 1).",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Embedding cache folder (default DATA/.facepass-cache).",
)
@click.option("--processes", default=2, show_default=True, help="Worker processes.")
@click.option(
    "--min-face-fraction",
    default=0.125,
    show_default=True,
    help="Detector scale: LFW's faces fill the frame, so 1/8 of it (the service uses 1/50).",
)
@click.option(
    "--alignment",
    "--views",
    "alignment",
    help="dlib chip views: landmarks, shape_predictor, fused, or views joined by '+', each "
    "with optional :dx=PX :dy=PX :scale=F :rot=DEG :jitter=N (default: the embedder's recipe).",
)
def lfw_command(
    data_dir: Path,
    pairs_file: Path | None,
    cache_dir: Path | None,
    processes: int,
    min_face_fraction: float,
    alignment: str | None,
) -> None:
    """LFW 10-fold verification accuracy, its spread and the threshold chosen."""
    config = dataclasses.replace(engine_config_from_settings(), min_face_fraction=min_face_fraction)
    if alignment is not None:
        config = dataclasses.replace(config, alignment=alignment)
    config = lfw.resolve_alignment(config)
    results, missing = lfw.evaluate(data_dir, pairs_file, config, cache_dir, processes)
    for result in results:
        emit(
            {
                "variant": result.variant,
                "accuracy": round(result.accuracy, 5),
                "accuracy_std": round(result.accuracy_std, 5),
                "threshold": round(result.threshold, 5),
                "fold_accuracies": [round(a, 4) for a in result.fold_accuracies],
            }
        )
    chosen = next(
        r for r in results if r.variant == ("flip_average" if config.flip_average else "plain")
    )
    emit(
        {
            "summary": {
                "pairs": chosen.pairs,
                "variant": chosen.variant,
                "accuracy": round(chosen.accuracy, 5),
                "accuracy_std": round(chosen.accuracy_std, 5),
                "threshold": round(chosen.threshold, 5),
                "images_without_face": missing,
                "embedder": config.embedder,
                "alignment": config.alignment,
            }
        }
    )


@eval_group.command("detect")
@click.option(
    "--xml",
    "xml_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="imglab XML (e.g. dlib's examples/faces/training.xml); images relative to it.",
)
@click.option("--iou", default=0.5, show_default=True, help="IoU for a detection to count.")
@click.option(
    "--raw-boxes",
    is_flag=True,
    help="Match CenterFace's boxes as they are, not reframed like dlib's labels.",
)
@click.option(
    "--min-scored-px",
    default=20.0,
    show_default=True,
    help="Unmatched detections smaller than this are reported, not counted as false.",
)
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    help="Resize photos and boxes first (0.6 turns 37 px faces into 22 px ones).",
)
def detect_command(
    xml_file: Path, iou: float, raw_boxes: bool, min_scored_px: float, scale: float
) -> None:
    """Recall per face-size bucket and precision against annotated boxes."""
    engine = FaceEngine.load(engine_config_from_settings())
    images = detection.read_imglab(xml_file)
    report = detection.evaluate(engine, images, iou, not raw_boxes, min_scored_px, scale)
    for name, (found, total) in report.found_by_bucket.items():
        emit({"bucket": name, "found": found, "annotated": total, "recall": _ratio(found, total)})
    for false_positive in report.false_positives:
        emit({"false_positive": false_positive})
    for small in report.unscored_small:
        emit({"unscored_small_detection": small})
    emit(
        {
            "summary": {
                "images": report.images,
                "annotated_faces": report.annotated,
                "detections_scored": report.detections,
                "recall": round(report.recall(), 4),
                "precision": round(report.precision, 4),
                "iou": iou,
                "box_convention": "raw" if raw_boxes else "dlib",
                "scale": scale,
            }
        }
    )


def _ratio(found: int, total: int) -> float | None:
    return round(found / total, 4) if total else None
