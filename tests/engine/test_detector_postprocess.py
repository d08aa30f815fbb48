"""The detectors' shared post-processing: suppression, then back to the image's pixels."""

from __future__ import annotations

import numpy as np

from facepass.engine.detectors.base import Detections, postprocess


def _found(boxes: list[list[float]], scores: list[float]) -> Detections:
    box_array = np.asarray(boxes, np.float32)
    # Landmarks at each box's corners and centre, so their mapping can be checked exactly.
    marks = [
        [[b[0], b[1]], [b[2], b[1]], [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2], [b[0], b[3]], b[2:]]
        for b in boxes
    ]
    return Detections(box_array, np.asarray(scores, np.float32), np.asarray(marks, np.float32))


def test_overlaps_are_suppressed_and_the_rest_map_back_per_axis() -> None:
    found = _found(
        [[10, 10, 30, 30], [11, 11, 31, 31], [50, 20, 70, 40]],
        [0.6, 0.9, 0.8],
    )
    # The network saw the 400x300 image resized to 100x50: x factor 4, y factor 6.
    result = postprocess(found, 0.3, (100, 50), (400, 300))
    assert result.scores.tolist() == [np.float32(0.9), np.float32(0.8)]
    assert result.boxes.tolist() == [[44, 66, 124, 186], [200, 120, 280, 240]]
    assert result.landmarks[1].tolist() == [
        [200, 120],
        [280, 120],
        [240, 180],
        [200, 240],
        [280, 240],
    ]


def test_boxes_are_clipped_to_the_image_but_landmarks_are_not() -> None:
    found = _found([[-5, -2, 60, 55]], [0.9])
    result = postprocess(found, 0.3, (50, 50), (100, 100))
    assert result.boxes.tolist() == [[0, 0, 100, 100]]
    assert result.landmarks[0, 0].tolist() == [-10, -4]


def test_nothing_found_stays_empty() -> None:
    result = postprocess(Detections.empty(), 0.3, (32, 32), (640, 480))
    assert len(result) == 0
    assert result.boxes.shape == (0, 4)
    assert result.landmarks.shape == (0, 5, 2)
