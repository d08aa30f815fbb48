"""dlib's face ResNet rebuilt as an ONNX graph, so ONNX Runtime runs it instead of dlib.

The pip build of dlib has no BLAS: its convolutions take ~73 ms per face on one core, where
ONNX Runtime's take a fraction of that. The weights come from the very .dat file dlib loads
(sha256-checked): dlib stores each tensor as raw little-endian float32 after a small header,
layers in forward order. The layout is the one of dlib's dnn_face_recognition_ex.cpp:

    input 150x150 RGB, (pixel - mean) / 256
    conv 32 7x7/2, affine, relu, max_pool 3x3/2
    3 x res(32), res_down(64) + 3 x res(64), res_down(128) + 2 x res(128),
    res_down(256) + 2 x res(256), res_down(256), global average, fc 128 (no bias)

where res(n) = relu(x + affine(conv(relu(affine(conv(x)))))) and res_down adds a 2x2/2
average pool of x instead of x. dlib adds tensors of different shapes by zero-padding the
smaller one at the end of each axis; the graph does the same with Pad. Affine layers
(batch-norm folded by dlib) are folded into the preceding convolutions here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from facepass.engine.errors import ModelError

FloatArray = npt.NDArray[np.float32]

CHIP_SIZE = 150
INPUT_NAME = "chips"
OUTPUT_NAME = "descriptor"
FLOAT = TensorProto.FLOAT

# (stage width, residual blocks, whether the stage starts by halving the resolution)
_STAGES = ((32, 3, False), (64, 3, True), (128, 2, True), (256, 2, True), (256, 0, True))


@dataclass(frozen=True)
class _Conv:
    weights: FloatArray  # (out, in, kh, kw)
    bias: FloatArray
    stride: int
    padding: int


def _compact_int(data: bytes, pos: int) -> tuple[int, int]:
    header = data[pos]
    size = header & 0x0F
    value = int.from_bytes(data[pos + 1 : pos + 1 + size], "little")
    return (-value if header & 0x80 else value), pos + 1 + size


def _tensor(data: bytes, pos: int) -> tuple[FloatArray, int]:
    version, pos = _compact_int(data, pos)
    if version != 2:
        raise ModelError("MODEL_INVALID", f"Unexpected dlib tensor version {version}.")
    dims = []
    for _ in range(4):
        value, pos = _compact_int(data, pos)
        dims.append(value)
    count = int(np.prod(dims))
    values = np.frombuffer(data, dtype="<f4", count=count, offset=pos).astype(np.float32)
    return values, pos + 4 * count


def _dlib_float(data: bytes, pos: int) -> tuple[float, int]:
    mantissa, pos = _compact_int(data, pos)
    exponent, pos = _compact_int(data, pos)
    return float(mantissa) * 2.0**exponent, pos


def parse_dlib_resnet(data: bytes) -> tuple[list[_Conv], FloatArray, FloatArray]:
    """Convolutions (affine folded in), the fc matrix (256 x 128) and the input channel means."""
    start = data.find(b"\x15input_rgb_image_sized")
    if start < 0:
        raise ModelError("MODEL_INVALID", "Not a dlib ResNet face model (no RGB input layer).")
    pos = start + 22
    means = []
    for _ in range(3):
        value, pos = _dlib_float(data, pos)
        means.append(value)
    convs: list[_Conv] = []
    fc: FloatArray | None = None
    for match in re.finditer(rb"\x01\x05con_4|\x01\x07affine_|\x01\x04fc_2", data):
        kind, pos = match.group(0)[2:], match.end()
        if kind == b"fc_2":
            outputs, pos = _compact_int(data, pos)
            inputs, pos = _compact_int(data, pos)
            values, pos = _tensor(data, pos)
            fc = values.reshape(inputs, outputs)
            continue
        values, pos = _tensor(data, pos)
        if kind == b"con_4":
            fields = []
            for _ in range(7):
                value, pos = _compact_int(data, pos)
                fields.append(value)
            filters, rows, cols, stride, _, padding, _ = fields
            weights = values[:-filters].reshape(filters, -1, rows, cols)
            convs.append(_Conv(weights, values[-filters:].copy(), stride, padding))
        else:  # affine_: gamma then beta, applied to the convolution just before it
            conv = convs[-1]
            gamma, beta = np.split(values, 2)
            convs[-1] = _Conv(
                conv.weights * gamma[:, None, None, None],
                conv.bias * gamma + beta,
                conv.stride,
                conv.padding,
            )
    if fc is None or len(convs) != 29:
        raise ModelError("MODEL_INVALID", "Unexpected dlib ResNet layout.")
    return convs, fc, np.asarray(means, np.float32)


class _GraphBuilder:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def constant(self, prefix: str, array: npt.NDArray[np.generic]) -> str:
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op: str, inputs: list[str], **attributes: int | list[int]) -> str:
        output = self.name(op.lower())
        made = helper.make_node(op, inputs, [output])
        made.attribute.extend(helper.make_attribute(k, v) for k, v in attributes.items())
        self.nodes.append(made)
        return output

    def conv(self, source: str, conv: _Conv, relu: bool) -> str:
        weights = self.constant("w", np.ascontiguousarray(conv.weights, dtype=np.float32))
        bias = self.constant("b", np.ascontiguousarray(conv.bias, dtype=np.float32))
        out = self.op(
            "Conv",
            [source, weights, bias],
            kernel_shape=list(conv.weights.shape[2:]),
            strides=[conv.stride, conv.stride],
            pads=[conv.padding] * 4,
        )
        return self.op("Relu", [out]) if relu else out

    def pad_to(self, source: str, shape: tuple[int, int, int], target: tuple[int, int, int]) -> str:
        if shape == target:
            return source
        pads = [0, 0, 0, 0, 0] + [t - s for s, t in zip(shape, target, strict=True)]
        return self.op("Pad", [source, self.constant("pads", np.asarray(pads, np.int64))])


def _conv_out(size: int, conv: _Conv) -> int:
    return int((size + 2 * conv.padding - conv.weights.shape[2]) // conv.stride + 1)


def convert_dlib_resnet(data: bytes) -> bytes:
    """The ONNX model (N x 3 x 150 x 150 RGB 0..255 in, N x 128 out) of a dlib face ResNet."""
    convs, fc, means = parse_dlib_resnet(data)
    first = convs[0]
    # The first convolution has no padding, so (x - mean) / 256 folds into it exactly.
    weights = first.weights / 256.0
    bias = first.bias - np.einsum("oikl,i->o", first.weights, means) / 256.0
    convs[0] = _Conv(weights.astype(np.float32), bias.astype(np.float32), first.stride, 0)

    graph = _GraphBuilder()
    x = graph.conv(INPUT_NAME, convs[0], relu=True)
    size = _conv_out(CHIP_SIZE, convs[0])
    x = graph.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2])
    size = (size - 3) // 2 + 1
    channels = 32
    remaining = iter(convs[1:])
    for width, blocks, halves in _STAGES:
        for index in range(blocks + int(halves)):
            down = halves and index == 0
            first_conv, second_conv = next(remaining), next(remaining)
            branch = graph.conv(x, first_conv, relu=True)
            branch_size = _conv_out(size, first_conv)
            branch = graph.conv(branch, second_conv, relu=False)
            shortcut, shortcut_size = x, size
            if down:
                shortcut = graph.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
                shortcut_size = (size - 2) // 2 + 1
            target = (max(width, channels), *(max(branch_size, shortcut_size),) * 2)
            branch = graph.pad_to(branch, (width, branch_size, branch_size), target)
            shortcut = graph.pad_to(shortcut, (channels, shortcut_size, shortcut_size), target)
            x = graph.op("Relu", [graph.op("Add", [branch, shortcut])])
            channels, size = target[0], target[1]
    pooled = graph.op("Flatten", [graph.op("GlobalAveragePool", [x])])
    matrix = graph.constant("fc", np.ascontiguousarray(fc, dtype=np.float32))
    graph.nodes.append(helper.make_node("MatMul", [pooled, matrix], [OUTPUT_NAME]))
    proto = helper.make_model(
        helper.make_graph(
            graph.nodes,
            "dlib_face_recognition_resnet_model_v1",
            [
                helper.make_tensor_value_info(
                    INPUT_NAME, TensorProto.FLOAT, ["N", 3, CHIP_SIZE, CHIP_SIZE]
                )
            ],
            [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", 128])],
            graph.initializers,
        ),
        producer_name="facepass",
        ir_version=7,
        opset_imports=[helper.make_opsetid("", 13)],
    )
    onnx.checker.check_model(proto)
    return bytes(proto.SerializeToString())
