"""Tiny, real ONNX models built with `onnx.helper` for registry tests."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def arcface_like_embedder(dim: int = 16, seed: int = 0) -> bytes:
    """N x 3 x 112 x 112 -> N x dim: channel means of the crop, projected by fixed weights.

    Not a face model, but a real ArcFace-shaped ONNX graph whose output depends on the crop.
    """
    weights = np.random.default_rng(seed).normal(size=(3, dim)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"]),
            helper.make_node("MatMul", ["flat", "projection"], ["embedding"]),
        ],
        "tiny-arcface",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 112, 112])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", dim])],
        [numpy_helper.from_array(weights, "projection")],
    )
    model = helper.make_model(
        graph,
        producer_name="facepass-tests",
        ir_version=7,
        opset_imports=[helper.make_opsetid("", 13)],
    )
    return bytes(model.SerializeToString())
