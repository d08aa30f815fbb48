"""An operator's SCRFD detector, added from an ONNX file and selected by id, decodes as
insightface does: a tiny constant-output model encodes one known face and some decoys."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

import facepass.cli.models  # noqa: F401  (registers the commands on models_group)
from facepass.cli.groups import models_group
from facepass.engine import EngineConfig, FaceEngine, ModelError
from facepass.engine.packs import add_local_model
from tests.engine.onnx_models import arcface_like_embedder

SIDE = 640  # the model's fixed input
STRIDES = (8, 16, 32)
# The face in the network's 640x640 input: box and 5 landmarks (eyes, nose, mouth corners).
FACE_BOX = (280.0, 190.0, 362.0, 300.0)
FACE_POINTS = ((300.0, 230.0), (342.0, 231.0), (321.0, 255.0), (304.0, 278.0), (338.0, 279.0))
# The photo is twice the input's width, so the detector letterboxes it at scale 0.5.
PHOTO_SIZE = (1280, 960)


def _anchor(stride: int, x: int, y: int, which: int) -> int:
    """Row of anchor `which` (of 2) at grid cell (x, y) of a stride's outputs."""
    return (y * (SIDE // stride) + x) * 2 + which


def _encode(
    outputs: dict[int, list[np.ndarray]],  # type: ignore[type-arg]
    stride: int,
    row: int,
    score: float,
    box: tuple[float, ...],
    points: tuple[tuple[float, float], ...],
) -> None:
    """Write one detection the way SCRFD predicts it: distances and offsets in strides."""
    cells = SIDE // stride
    cx, cy = (row // 2) % cells * stride, (row // 2) // cells * stride
    scores, distances, offsets = outputs[stride]
    scores[row, 0] = score
    distances[row] = np.array([cx - box[0], cy - box[1], box[2] - cx, box[3] - cy]) / stride
    offsets[row] = (np.array(points) - np.array([cx, cy])).reshape(10) / stride


def scrfd_like_model() -> bytes:
    """1x3x640x640 in; SCRFD's 9 outputs (scores, boxes, keypoints per stride) as constants."""
    outputs: dict[int, list[np.ndarray]] = {  # type: ignore[type-arg]
        s: [np.zeros(((SIDE // s) ** 2 * 2, n), np.float32) for n in (1, 4, 10)] for s in STRIDES
    }
    # The face, found by the second anchor at the stride-16 cell nearest its centre.
    _encode(outputs, 16, _anchor(16, 20, 15, 1), 0.92, FACE_BOX, FACE_POINTS)
    # The same face, a little shifted and less sure, at stride 8: NMS must drop it.
    shifted = tuple(v + 3.0 for v in FACE_BOX)
    _encode(outputs, 8, _anchor(8, 40, 30, 0), 0.7, shifted, FACE_POINTS)
    # Elsewhere, below the 0.5 threshold: must be dropped.
    _encode(outputs, 32, _anchor(32, 4, 4, 0), 0.3, (100.0, 100.0, 180.0, 190.0), FACE_POINTS)
    names = [f"{kind}_{s}" for kind in ("score", "bbox", "kps") for s in STRIDES]
    arrays = [outputs[s][part] for part in range(3) for s in STRIDES]
    graph = helper.make_graph(
        [
            helper.make_node("Constant", [], [name], value=numpy_helper.from_array(array, name))
            for name, array in zip(names, arrays, strict=True)
        ],
        "tiny-scrfd",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
        [
            helper.make_tensor_value_info(name, TensorProto.FLOAT, list(array.shape))
            for name, array in zip(names, arrays, strict=True)
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding the SCRFD-like detector, added with `facepass models add`."""
    folder = tmp_path_factory.mktemp("scrfd")
    (folder / "det_tiny.onnx").write_bytes(scrfd_like_model())
    (folder / "embed.onnx").write_bytes(arcface_like_embedder(dim=16))
    models = folder / "models"
    result = CliRunner().invoke(
        models_group,
        [
            "add",
            str(folder / "det_tiny.onnx"),
            "--id",
            "tiny-scrfd-v1",
            "--kind",
            "detector",
            "--family",
            "scrfd",
            "--license",
            "MIT",
            "--commercial",
            "--models-dir",
            str(models),
        ],
    )
    assert result.exit_code == 0, result.output
    add_local_model(
        {"onnx": folder / "embed.onnx"},
        models,
        model_id="tiny-arcface-v1",
        family="arcface",
        kind="embedder",
        version="1",
        license="MIT",
        commercial_use=True,
        params={"embedding_dim": 16},
    )
    return models


def test_scrfd_pack_decodes_the_encoded_face(models_dir: Path) -> None:
    # The tiny network reports the same face at the same anchors whatever it is shown, so the
    # engine's close pass (a second, shrunk view of the photo) would see it elsewhere: off here.
    engine = FaceEngine.load(
        EngineConfig(
            detector="tiny-scrfd-v1",
            embedder="tiny-arcface-v1",
            models_dir=models_dir,
            close_pass_side=0,
        )
    )
    photo = Image.new("RGB", PHOTO_SIZE, (120, 110, 100))

    found = engine.detector.detect(photo, min_face_px=20.0)

    # One face: the decoy under the threshold and the weaker duplicate are gone.
    assert len(found) == 1
    assert found.scores[0] == pytest.approx(0.92)
    np.testing.assert_allclose(found.boxes[0], np.array(FACE_BOX) * 2, atol=1.0)
    np.testing.assert_allclose(found.landmarks[0], np.array(FACE_POINTS) * 2, atol=1.0)

    # Alignment, quality and embedding take SCRFD's detections unchanged.
    analysis = engine.analyze_image(photo)
    (face,) = analysis.faces
    assert face.box.as_list() == pytest.approx([v * 2 for v in FACE_BOX], abs=1.0)
    assert face.quality.detection_score == pytest.approx(0.92)
    assert abs(face.quality.yaw) < 10
    assert face.embedding is not None
    assert face.embedding.shape == (16,)


def test_scrfd_pack_records_family_and_checksum(models_dir: Path) -> None:
    manifest = json.loads((models_dir / "tiny-scrfd-v1" / "pack.json").read_text())
    (entry,) = manifest["models"]
    assert (entry["family"], entry["kind"]) == ("scrfd", "detector")
    assert len(entry["files"]["onnx"]["sha256"]) == 64


def test_scrfd_without_keypoints_is_refused(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [
            helper.make_node(
                "Constant",
                [],
                [f"out_{i}"],
                value=numpy_helper.from_array(np.zeros((2, 1), np.float32), f"out_{i}"),
            )
            for i in range(6)
        ],
        "box-only",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
        [helper.make_tensor_value_info(f"out_{i}", TensorProto.FLOAT, [2, 1]) for i in range(6)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    (tmp_path / "box_only.onnx").write_bytes(model.SerializeToString())
    add_local_model(
        {"onnx": tmp_path / "box_only.onnx"},
        tmp_path / "m",
        model_id="box-only-v1",
        family="scrfd",
        kind="detector",
        version="1",
        license="MIT",
        commercial_use=True,
    )
    with pytest.raises(ModelError) as raised:
        FaceEngine.load(EngineConfig(detector="box-only-v1", models_dir=tmp_path / "m"))
    assert raised.value.code == "MODEL_UNSUPPORTED"
