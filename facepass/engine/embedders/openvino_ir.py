"""An OpenVINO IR (v10/v11 XML + .bin) network rebuilt as an ONNX graph, for ONNX Runtime.

ONNX Runtime cannot read OpenVINO's IR, and the `openvino` runtime is a 100 MB dependency the
product does not need (it stays a test extra: the parity test compares against it). The IR is
an XML list of layers (each constant's offset and size in the .bin) and the edges between their
ports; the face re-identification networks use a handful of ordinary ops, each of which maps
onto an ONNX one. On the way the graph is simplified for speed, exactly:

- a Convolution followed by the Add of a per-channel constant (batch-norm folded by Intel's
  converter) becomes one Conv with a bias;
- a PReLU with one slope for every channel becomes LeakyRelu, which ONNX Runtime fuses into the
  convolution before it (a PReLU stays a separate pass over the activations);
- an AvgPool whose kernel covers its whole input becomes GlobalAveragePool.

FP16 weights are widened to float32 (what OpenVINO's CPU plugin computes in as well).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from facepass.engine.errors import ModelError

FloatArray = npt.NDArray[np.float32]

INPUT_NAME = "faces"
OUTPUT_NAME = "embedding"

_DTYPES = {"f16": "<f2", "f32": "<f4", "i64": "<i8", "i32": "<i4"}


@dataclass
class _Layer:
    id: str
    type: str
    name: str
    data: dict[str, str]
    out_dims: dict[str, tuple[int, ...]]
    inputs: list[str] = field(default_factory=list)  # producer "layer:port" per input port


def _parse_ir(xml: bytes) -> dict[str, _Layer]:
    try:
        root = ET.fromstring(xml)  # noqa: S314 - the vendored, sha256-pinned IR only
    except ET.ParseError as exc:
        raise ModelError("MODEL_INVALID", f"The IR XML cannot be parsed: {exc}") from exc
    layers: dict[str, _Layer] = {}
    for element in root.iterfind("layers/layer"):
        data = element.find("data")
        out_dims = {
            str(port.get("id")): tuple(int(d.text or 0) for d in port.iterfind("dim"))
            for port in element.iterfind("output/port")
        }
        layers[str(element.get("id"))] = _Layer(
            str(element.get("id")),
            str(element.get("type")),
            str(element.get("name")),
            dict(data.attrib) if data is not None else {},
            out_dims,
        )
    ports: dict[str, dict[int, str]] = defaultdict(dict)
    for edge in root.iterfind("edges/edge"):
        source = f"{edge.get('from-layer')}:{edge.get('from-port')}"
        ports[str(edge.get("to-layer"))][int(str(edge.get("to-port")))] = source
    for layer_id, by_port in ports.items():
        layers[layer_id].inputs = [by_port[p] for p in sorted(by_port)]
    return layers


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.replace(" ", "").split(",") if v]


class _Converter:
    def __init__(self, layers: dict[str, _Layer], weights: bytes) -> None:
        self.layers = layers
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.names: dict[str, str] = {}  # "layer:port" -> ONNX value name
        consumers: dict[str, list[str]] = defaultdict(list)
        for layer in layers.values():
            for source in layer.inputs:
                consumers[source].append(layer.id)
        self.consumers = consumers

    def constant(self, source: str) -> FloatArray | None:
        """The value of a Const layer's output as float32, or None if `source` is computed."""
        layer = self.layers[source.split(":")[0]]
        if layer.type != "Const":
            return None
        dtype = _DTYPES.get(layer.data.get("element_type", ""))
        if dtype is None:
            raise ModelError("MODEL_INVALID", f"IR constant {layer.name}: unsupported type.")
        offset, size = int(layer.data["offset"]), int(layer.data["size"])
        if offset + size > len(self.weights):
            raise ModelError("MODEL_INVALID", "The IR .bin is shorter than its XML says.")
        values = np.frombuffer(
            self.weights, dtype=dtype, count=size // np.dtype(dtype).itemsize, offset=offset
        )
        shape = _ints(layer.data.get("shape", "")) or [values.size]
        return values.astype(np.float32).reshape(shape)

    def initializer(self, name: str, array: npt.NDArray[np.generic]) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def value(self, source: str) -> str:
        if source in self.names:
            return self.names[source]
        array = self.constant(source)
        if array is None:
            raise ModelError("MODEL_INVALID", f"IR value {source} used before it is computed.")
        name = self.initializer(f"const_{source.replace(':', '_')}", array)
        self.names[source] = name
        return name

    def only_consumer(self, layer: _Layer) -> _Layer | None:
        users = self.consumers.get(f"{layer.id}:{next(iter(layer.out_dims))}", [])
        return self.layers[users[0]] if len(users) == 1 else None

    def emit(
        self, op: str, inputs: Sequence[str], layer: _Layer, **attrs: int | float | list[int]
    ) -> None:
        output = f"v{layer.id}"
        node = helper.make_node(op, list(inputs), [output], name=layer.name)
        node.attribute.extend(helper.make_attribute(k, v) for k, v in attrs.items())
        self.nodes.append(node)
        self.names[f"{layer.id}:{next(iter(layer.out_dims))}"] = output

    def convert(self) -> tuple[str, str]:
        order = self._topological()
        folded: set[str] = set()
        graph_input = graph_output = ""
        for layer in order:
            if layer.id in folded or layer.type == "Const":
                continue
            if layer.type == "Parameter":
                graph_input = INPUT_NAME
                self.names[f"{layer.id}:{next(iter(layer.out_dims))}"] = INPUT_NAME
            elif layer.type == "Result":
                graph_output = self.names[layer.inputs[0]]
            elif layer.type in ("Convolution", "GroupConvolution"):
                folded |= self._conv(layer)
            elif layer.type == "PReLU":
                self._prelu(layer)
            elif layer.type in ("Add", "Multiply"):
                op = "Add" if layer.type == "Add" else "Mul"
                self.emit(op, [self.value(s) for s in layer.inputs], layer)
            elif layer.type == "Sigmoid":
                self.emit("Sigmoid", [self.names[layer.inputs[0]]], layer)
            elif layer.type == "AvgPool":
                self._avg_pool(layer)
            else:
                raise ModelError("MODEL_UNSUPPORTED", f"IR layer type {layer.type} unsupported.")
        return graph_input, graph_output

    def _topological(self) -> list[_Layer]:
        done: set[str] = set()
        order: list[_Layer] = []
        pending = list(self.layers.values())
        while pending:
            rest = []
            for layer in pending:
                if all(s.split(":")[0] in done for s in layer.inputs):
                    done.add(layer.id)
                    order.append(layer)
                else:
                    rest.append(layer)
            if len(rest) == len(pending):
                raise ModelError("MODEL_INVALID", "The IR graph has a cycle.")
            pending = rest
        return order

    def _conv(self, layer: _Layer) -> set[str]:
        weights = self.constant(layer.inputs[1])
        if weights is None:
            raise ModelError("MODEL_UNSUPPORTED", f"{layer.name}: computed convolution weights.")
        group = 1
        if layer.type == "GroupConvolution":  # (groups, out/group, in/group, kh, kw)
            group = weights.shape[0]
            weights = weights.reshape(-1, *weights.shape[2:])
        folded: set[str] = set()
        bias = None
        after = self.only_consumer(layer)
        if after is not None and after.type == "Add":
            other = next(s for s in after.inputs if not s.startswith(f"{layer.id}:"))
            values = self.constant(other)
            if values is not None and values.size == weights.shape[0]:
                bias = values.reshape(-1)
                folded.add(after.id)
        stem = f"conv{layer.id}"
        inputs = [self.names[layer.inputs[0]], self.initializer(f"{stem}_w", weights)]
        if bias is not None:
            inputs.append(self.initializer(f"{stem}_b", bias))
        attrs: dict[str, int | float | list[int]] = {
            "kernel_shape": [int(k) for k in weights.shape[2:]],
            "strides": _ints(layer.data.get("strides", "1,1")),
            "dilations": _ints(layer.data.get("dilations", "1,1")),
            "pads": _ints(layer.data.get("pads_begin", "0,0"))
            + _ints(layer.data.get("pads_end", "0,0")),
            "group": group,
        }
        target = self.layers[next(iter(folded))] if folded else layer
        self.emit("Conv", inputs, target, **attrs)
        return folded

    def _prelu(self, layer: _Layer) -> None:
        source = self.names[layer.inputs[0]]
        slope = self.constant(layer.inputs[1])
        if slope is not None and slope.size == 1:
            self.emit("LeakyRelu", [source], layer, alpha=float(slope.reshape(-1)[0]))
            return
        self.emit("PRelu", [source, self.value(layer.inputs[1])], layer)

    def _avg_pool(self, layer: _Layer) -> None:
        source = self.names[layer.inputs[0]]
        producer = self.layers[layer.inputs[0].split(":")[0]]
        in_dims = producer.out_dims[layer.inputs[0].split(":")[1]]
        kernel = _ints(layer.data["kernel"])
        pads = _ints(layer.data.get("pads_begin", "0,0")) + _ints(layer.data.get("pads_end", "0,0"))
        if list(in_dims[2:]) == kernel and not any(pads):
            self.emit("GlobalAveragePool", [source], layer)
            return
        self.emit(
            "AveragePool",
            [source],
            layer,
            kernel_shape=kernel,
            strides=_ints(layer.data.get("strides", "1,1")),
            pads=pads,
            count_include_pad=0 if layer.data.get("exclude-pad", "true") == "true" else 1,
        )


def convert_ir(xml: bytes, weights: bytes, name: str) -> bytes:
    """The ONNX model (N x C x H x W float32 in, N x D out) of an OpenVINO IR network."""
    layers = _parse_ir(xml)
    parameters = [layer for layer in layers.values() if layer.type == "Parameter"]
    if len(parameters) != 1:
        raise ModelError("MODEL_UNSUPPORTED", "The IR network must have exactly one input.")
    converter = _Converter(layers, weights)
    _, output = converter.convert()
    if not output:
        raise ModelError("MODEL_INVALID", "The IR network has no result.")
    converter.nodes.append(helper.make_node("Flatten", [output], [OUTPUT_NAME]))
    channels, height, width = next(iter(parameters[0].out_dims.values()))[1:]
    proto = helper.make_model(
        helper.make_graph(
            converter.nodes,
            name,
            [
                helper.make_tensor_value_info(
                    INPUT_NAME, TensorProto.FLOAT, ["N", channels, height, width]
                )
            ],
            [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", None])],
            converter.initializers,
        ),
        producer_name="facepass",
        ir_version=7,
        opset_imports=[helper.make_opsetid("", 13)],
    )
    onnx.checker.check_model(proto)
    return bytes(proto.SerializeToString())
