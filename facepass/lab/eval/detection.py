"""Detection recall by face size and precision, on photos annotated in dlib's imglab XML."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from facepass.engine.engine import FaceEngine
from facepass.engine.imaging import load_image
from facepass.engine_config import engine_config_from_settings
from facepass.lab.output import emit

FloatArray = npt.NDArray[np.float32]

SIZE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<20", 0.0, 20.0),
    ("20-39", 20.0, 40.0),
    ("40-79", 40.0, 80.0),
    (">=80", 80.0, float("inf")),
)


@dataclass(frozen=True)
class AnnotatedImage:
    path: Path
    boxes: FloatArray  # (N, 4) x1 y1 x2 y2
    ignore: npt.NDArray[np.bool_]


@dataclass
class DetectionReport:
    images: int = 0
    annotated: int = 0
    detections: int = 0
    true_positives: int = 0
    false_positives: list[dict[str, object]] = field(default_factory=list)
    # Unmatched detections smaller than the smallest size scored: faces the annotators left out
    # (imglab sets label nothing under about 20 px) are neither hits nor false positives.
    unscored_small: list[dict[str, object]] = field(default_factory=list)
    found_by_bucket: dict[str, list[int]] = field(default_factory=dict)  # bucket: [found, total]

    @property
    def precision(self) -> float:
        return self.true_positives / self.detections if self.detections else 1.0

    def recall(self, bucket: str | None = None) -> float:
        if bucket is None:
            found = sum(v[0] for v in self.found_by_bucket.values())
            total = sum(v[1] for v in self.found_by_bucket.values())
        else:
            found, total = self.found_by_bucket.get(bucket, [0, 0])
        return found / total if total else float("nan")


def read_imglab(xml_file: Path) -> list[AnnotatedImage]:
    """Images and face boxes of an imglab dataset (box top/left/width/height, ignore='1')."""
    root = ElementTree.parse(xml_file).getroot()  # noqa: S314 - a local annotation file
    images = []
    for image in root.iter("image"):
        boxes, ignore = [], []
        for box in image.iter("box"):
            left, top = float(box.get("left", 0)), float(box.get("top", 0))
            width, height = float(box.get("width", 0)), float(box.get("height", 0))
            boxes.append([left, top, left + width, top + height])
            ignore.append(box.get("ignore", "0") == "1")
        images.append(
            AnnotatedImage(
                xml_file.parent / image.get("file", ""),
                np.asarray(boxes, np.float32).reshape(-1, 4),
                np.asarray(ignore, bool),
            )
        )
    return images


def _scaled(item: AnnotatedImage, scale: float) -> tuple[AnnotatedImage, bytes]:
    data = item.path.read_bytes()
    if scale == 1.0:
        return item, data
    image = load_image(data)
    size = (round(image.width * scale), round(image.height * scale))
    buffer = io.BytesIO()
    image.resize(size, Image.Resampling.LANCZOS).save(buffer, "PNG")
    return AnnotatedImage(item.path, item.boxes * scale, item.ignore), buffer.getvalue()


def to_dlib_convention(boxes: FloatArray) -> FloatArray:
    """CenterFace boxes (forehead to chin) reframed like dlib's detectors and imglab labels:
    a square about as wide, centred 4 % lower (measured against dlib's HOG detector)."""
    width = boxes[:, 2] - boxes[:, 0]
    height = boxes[:, 3] - boxes[:, 1]
    centre_x = (boxes[:, 0] + boxes[:, 2]) / 2
    centre_y = (boxes[:, 1] + boxes[:, 3]) / 2 + 0.037 * height
    half = 1.02 * width / 2
    return np.stack([centre_x - half, centre_y - half, centre_x + half, centre_y + half], axis=1)


def iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """Intersection over union of every box of a with every box of b."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    result: FloatArray = inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)
    return result


def evaluate(
    engine: FaceEngine,
    images: Sequence[AnnotatedImage],
    iou_threshold: float = 0.5,
    dlib_convention: bool = True,
    min_scored_px: float = 20.0,
    scale: float = 1.0,
) -> DetectionReport:
    """Greedy IoU matching, best-scoring detection first, of detections to annotations.

    With scale != 1 every photo (and its boxes) is resized first: at 0.6, the 37 px faces of
    dlib's set become 22 px ones, which tests the small-face end on the same real photos.
    """
    report = DetectionReport(found_by_bucket={name: [0, 0] for name, _, _ in SIZE_BUCKETS})
    for original in images:
        item, data = _scaled(original, scale)
        analysis = engine.analyze(data, embed=False)
        faces = sorted(analysis.faces, key=lambda f: -f.quality.detection_score)
        detected = np.asarray([f.box.as_list() for f in faces], np.float32).reshape(-1, 4)
        if dlib_convention and len(detected):
            detected = to_dlib_convention(detected)
        ious = iou_matrix(detected, item.boxes)
        taken = np.zeros(len(item.boxes), bool)
        report.images += 1
        for index in range(len(detected)):
            candidates = np.where(~taken & (ious[index] >= iou_threshold))[0]
            if candidates.size:
                best = candidates[np.argmax(ious[index, candidates])]
                taken[best] = True
                if not item.ignore[best]:
                    report.true_positives += 1
                    report.detections += 1
                continue
            record: dict[str, object] = {
                "image": item.path.name,
                "box": [round(float(v), 1) for v in faces[index].box.as_list()],
                "score": round(faces[index].quality.detection_score, 3),
            }
            box = detected[index]
            if min(box[2] - box[0], box[3] - box[1]) < min_scored_px:
                report.unscored_small.append(record)
            else:
                report.detections += 1
                report.false_positives.append(record)
        for box, found, ignored in zip(item.boxes, taken, item.ignore, strict=True):
            if ignored:
                continue
            size = float(min(box[2] - box[0], box[3] - box[1]))
            report.annotated += 1
            for name, low, high in SIZE_BUCKETS:
                if low <= size < high:
                    report.found_by_bucket[name][0] += int(found)
                    report.found_by_bucket[name][1] += 1
    return report


def command(
    xml_file: Path, iou: float, raw_boxes: bool, min_scored_px: float, scale: float
) -> None:
    """`facepass eval detect`: JSON lines per size bucket and unmatched box, then the summary."""
    engine = FaceEngine.load(engine_config_from_settings())
    images = read_imglab(xml_file)
    report = evaluate(engine, images, iou, not raw_boxes, min_scored_px, scale)
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
