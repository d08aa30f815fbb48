"""The few edits the engine makes to operators' ONNX graphs, done with the `onnx` package.

CenterFace's published ONNX declares a fixed 10x3x32x32 input, and old exporters list every
weight as a graph input, which stops ONNX Runtime folding constants; SCRFD's decoding depends
on how many outputs the graph has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import onnx
from google.protobuf.message import DecodeError

from facepass.engine.errors import ModelError

Dim = int | str


def parse(model: bytes) -> onnx.ModelProto:
    """The ModelProto of serialised ONNX bytes; MODEL_INVALID when they are not one."""
    try:
        proto = onnx.load_model_from_string(model)
    except (DecodeError, ValueError) as exc:
        raise ModelError("MODEL_INVALID", "The ONNX file cannot be parsed.") from exc
    if not proto.HasField("graph"):
        raise ModelError("MODEL_INVALID", "The ONNX file has no graph.")
    return proto


def _set_shape(value: onnx.ValueInfoProto, dims: Sequence[Dim]) -> None:
    shape = value.type.tensor_type.shape
    shape.ClearField("dim")
    for dim in dims:
        if isinstance(dim, str):
            shape.dim.add().dim_param = dim
        else:
            shape.dim.add().dim_value = dim


def with_dynamic_shapes(model: bytes, shapes: Mapping[str, Sequence[Dim]]) -> bytes:
    """The model with the named inputs/outputs re-declared with `shapes` (str = dynamic), and
    initializers dropped from the graph inputs so ONNX Runtime may fold them."""
    proto = parse(model)
    graph = proto.graph
    weights = {tensor.name for tensor in graph.initializer}
    inputs = [value for value in graph.input if value.name not in weights]
    graph.ClearField("input")
    graph.input.extend(inputs)
    for value in [*graph.input, *graph.output]:
        if value.name in shapes:
            _set_shape(value, shapes[value.name])
    return bytes(proto.SerializeToString())


def output_count(model: bytes) -> int:
    """How many outputs the model's graph declares."""
    return len(parse(model).graph.output)
