"""What every detector returns, and the post-processing they share (suppression, rescaling)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Detections:
    """N faces: boxes (N, 4) as x1 y1 x2 y2, scores (N,), landmarks (N, 5, 2) as x y.

    Landmarks are the left eye, right eye (as seen in the image), nose tip and the left and
    right mouth corners, the convention of CenterFace, RetinaFace, SCRFD and YuNet alike.
    """

    boxes: FloatArray
    scores: FloatArray
    landmarks: FloatArray

    @classmethod
    def empty(cls) -> Detections:
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros((0,), np.float32),
            np.zeros((0, 5, 2), np.float32),
        )

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def scaled(self, factor: float) -> Detections:
        """The same detections in an image `factor` times the size."""
        return Detections(self.boxes * factor, self.scores, self.landmarks * factor)

    def select(self, keep: npt.NDArray[np.intp]) -> Detections:
        return Detections(self.boxes[keep], self.scores[keep], self.landmarks[keep])


class Detector(Protocol):
    """A face detector; `min_face_px` is the smallest face (in image pixels) it must find."""

    min_input_face_px: float  # smallest face found reliably, in the network's input pixels

    def detect(self, image: Image.Image, min_face_px: float) -> Detections: ...

    def input_scale(self, width: int, height: int, min_face_px: float) -> float: ...


# A detection this many times the area of another it covers is the whole of which that is a part.
_WHOLE_FACE_AREA = 1.5


def merge(first: Detections, second: Detections, overlap: float) -> Detections:
    """The faces of two passes over one image, each face once.

    A face of `second` is the same as a face of `first` when their intersection covers more
    than `overlap` of the smaller box. The copy of `second` replaces those of `first` when it
    scores higher or is much larger (`first` then saw only parts of a face too large for it).
    """
    keep_first = np.ones(len(first), bool)
    keep_second: list[int] = []
    first_areas = _areas(first.boxes)
    for j in np.argsort(-second.scores, kind="stable"):
        box = second.boxes[j]
        inter_w = np.maximum(
            np.minimum(first.boxes[:, 2], box[2]) - np.maximum(first.boxes[:, 0], box[0]), 0
        )
        inter_h = np.maximum(
            np.minimum(first.boxes[:, 3], box[3]) - np.maximum(first.boxes[:, 1], box[1]), 0
        )
        smaller = np.maximum(np.minimum(first_areas, _areas(box[None])[0]), 1e-9)
        same = keep_first & (inter_w * inter_h / smaller > overlap)
        if not same.any():
            keep_second.append(int(j))
        elif (
            second.scores[j] > first.scores[same].max()
            or _areas(box[None])[0] > _WHOLE_FACE_AREA * first_areas[same].max()
        ):
            keep_first &= ~same
            keep_second.append(int(j))
    kept = np.asarray(keep_second, np.intp)
    return Detections(
        np.concatenate([first.boxes[keep_first], second.boxes[kept]]),
        np.concatenate([first.scores[keep_first], second.scores[kept]]),
        np.concatenate([first.landmarks[keep_first], second.landmarks[kept]]),
    )


def _areas(boxes: FloatArray) -> FloatArray:
    areas: FloatArray = np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(
        boxes[:, 3] - boxes[:, 1], 0
    )
    return areas


def nms(boxes: FloatArray, scores: FloatArray, iou_threshold: float) -> npt.NDArray[np.intp]:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first."""
    if len(scores) == 0:
        return np.zeros((0,), np.intp)
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        inter_w = np.maximum(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0)
        inter_h = np.maximum(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0)
        inter = inter_w * inter_h
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)


def postprocess(
    found: Detections,
    iou_threshold: float,
    input_size: tuple[int, int],
    image_size: tuple[int, int],
) -> Detections:
    """Decoded detections suppressed, then mapped from the network's input pixels (the image
    resized to `input_size`, padding beyond it) back to the image's, boxes clipped to it.

    x and y scale separately: rounding the resized sides makes their factors differ slightly.
    """
    found = found.select(nms(found.boxes, found.scores, iou_threshold))
    (input_w, input_h), (image_w, image_h) = input_size, image_size
    factor = np.array([image_w / input_w, image_h / input_h], np.float32)
    boxes = found.boxes * np.tile(factor, 2)
    boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, image_w)
    boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, image_h)
    return Detections(boxes, found.scores, found.landmarks * factor)
