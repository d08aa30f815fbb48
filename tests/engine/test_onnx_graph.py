"""The engine's edits of operators' ONNX graphs."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from facepass.engine.errors import ModelError
from facepass.engine.onnx_graph import output_count, with_dynamic_shapes
from tests.engine.onnx_models import arcface_like_embedder


def _fixed_with_weights_as_inputs() -> bytes:
    """The tiny embedder as old exporters write it: a fixed input, the weight also an input."""
    model = onnx.load_model_from_string(arcface_like_embedder(dim=4))
    graph = model.graph
    graph.input[0].CopyFrom(helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8]))
    graph.input.append(helper.make_tensor_value_info("projection", TensorProto.FLOAT, [3, 4]))
    return bytes(model.SerializeToString())


def test_shapes_become_dynamic_and_weights_stop_being_inputs() -> None:
    patched = with_dynamic_shapes(_fixed_with_weights_as_inputs(), {"input": ["N", 3, "H", "W"]})
    session = ort.InferenceSession(patched, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    assert session.get_inputs()[0].shape == ["N", 3, "H", "W"]
    batch = np.zeros((2, 3, 20, 30), np.float32)
    assert session.run(None, {"input": batch})[0].shape == (2, 4)
    assert output_count(patched) == 1


def test_bytes_that_are_no_onnx_model_are_refused() -> None:
    with pytest.raises(ModelError) as refused:
        output_count(b"\xff\xff\xff not a model")
    assert refused.value.code == "MODEL_INVALID"
