"""Tiny, real ONNX models written byte by byte (no `onnx` package needed) for registry tests."""

from __future__ import annotations

import numpy as np

from facepass.engine.onnx_proto import encode_field, tensor_value_info

# onnx.proto field numbers
_MODEL_IR_VERSION, _MODEL_PRODUCER, _MODEL_GRAPH, _MODEL_OPSET = 1, 2, 7, 8
_OPSET_VERSION = 2
_GRAPH_NODE, _GRAPH_NAME, _GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT = 1, 2, 5, 11, 12
_NODE_INPUT, _NODE_OUTPUT, _NODE_OP = 1, 2, 4
_TENSOR_DIMS, _TENSOR_TYPE, _TENSOR_NAME, _TENSOR_RAW = 1, 2, 8, 9


def _node(op: str, inputs: list[str], outputs: list[str]) -> bytes:
    return (
        b"".join(encode_field(_NODE_INPUT, name) for name in inputs)
        + b"".join(encode_field(_NODE_OUTPUT, name) for name in outputs)
        + encode_field(_NODE_OP, op)
    )


def _tensor(name: str, array: np.ndarray) -> bytes:  # type: ignore[type-arg]
    return (
        b"".join(encode_field(_TENSOR_DIMS, int(d)) for d in array.shape)
        + encode_field(_TENSOR_TYPE, 1)
        + encode_field(_TENSOR_NAME, name)
        + encode_field(_TENSOR_RAW, array.astype("<f4").tobytes())
    )


def arcface_like_embedder(dim: int = 16, seed: int = 0) -> bytes:
    """N x 3 x 112 x 112 -> N x dim: channel means of the crop, projected by fixed weights.

    Not a face model, but a real ArcFace-shaped ONNX graph whose output depends on the crop.
    """
    weights = np.random.default_rng(seed).normal(size=(3, dim)).astype(np.float32)
    graph = (
        encode_field(_GRAPH_NODE, _node("GlobalAveragePool", ["input"], ["pooled"]))
        + encode_field(_GRAPH_NODE, _node("Flatten", ["pooled"], ["flat"]))
        + encode_field(_GRAPH_NODE, _node("MatMul", ["flat", "projection"], ["embedding"]))
        + encode_field(_GRAPH_NAME, "tiny-arcface")
        + encode_field(_GRAPH_INITIALIZER, _tensor("projection", weights))
        + encode_field(_GRAPH_INPUT, tensor_value_info("input", ["N", 3, 112, 112]))
        + encode_field(_GRAPH_OUTPUT, tensor_value_info("embedding", ["N", dim]))
    )
    opset = encode_field(_OPSET_VERSION, 13)
    return (
        encode_field(_MODEL_IR_VERSION, 7)
        + encode_field(_MODEL_PRODUCER, "facepass-tests")
        + encode_field(_MODEL_GRAPH, graph)
        + encode_field(_MODEL_OPSET, opset)
    )
