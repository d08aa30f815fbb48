"""Just enough of the protobuf wire format to fix up ONNX graphs without the `onnx` package.

CenterFace's published ONNX declares a fixed 10x3x32x32 input, and old exporters list every
weight as a graph input, which stops ONNX Runtime folding constants. Rewriting the two repeated
fields involved is a few dozen lines, so the product does not depend on `onnx` (and protobuf's
generated classes) at run time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from facepass.engine.errors import ModelError

# Field numbers from onnx.proto3.
MODEL_GRAPH = 7
GRAPH_NODE, GRAPH_NAME, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT = 1, 2, 5, 11, 12
TENSOR_NAME = 8
VALUE_INFO_NAME, VALUE_INFO_TYPE = 1, 2
TYPE_TENSOR = 1
TENSOR_TYPE_ELEM, TENSOR_TYPE_SHAPE = 1, 2
SHAPE_DIM = 1
DIM_VALUE, DIM_PARAM = 1, 2
FLOAT = 1

Field = tuple[int, int, bytes | int]  # (field number, wire type, payload)
Dim = int | str


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ModelError("MODEL_INVALID", "Truncated protobuf varint.")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def iter_fields(data: bytes) -> Iterator[Field]:
    """Yield the top-level fields of a serialised protobuf message."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        payload: bytes | int
        if wire == 0:
            payload, pos = _read_varint(data, pos)
        elif wire == 1:
            payload, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            payload, pos = data[pos : pos + 4], pos + 4
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            payload, pos = data[pos : pos + length], pos + length
        else:
            raise ModelError("MODEL_INVALID", f"Unsupported protobuf wire type {wire}.")
        yield number, wire, payload


def varint(value: int) -> bytes:
    """Encode a non-negative int (or a negative int64, two's complement) as a varint."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_field(number: int, payload: bytes | int | str, wire: int | None = None) -> bytes:
    """Encode one field; ints as varints, bytes and str as length-delimited."""
    if isinstance(payload, int):
        return varint(number << 3 | 0) + varint(payload)
    raw = payload.encode() if isinstance(payload, str) else payload
    if wire in (1, 5):
        return varint(number << 3 | wire) + raw
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def _encode(fields: Sequence[Field]) -> bytes:
    return b"".join(encode_field(n, p, w) for n, w, p in fields)


def tensor_value_info(name: str, dims: Sequence[Dim], elem_type: int = FLOAT) -> bytes:
    """A ValueInfoProto for a tensor; str dims are symbolic (dynamic)."""
    dim_msgs = b"".join(
        encode_field(SHAPE_DIM, encode_field(DIM_PARAM if isinstance(d, str) else DIM_VALUE, d))
        for d in dims
    )
    tensor_type = encode_field(TENSOR_TYPE_ELEM, elem_type) + encode_field(
        TENSOR_TYPE_SHAPE, dim_msgs
    )
    return encode_field(VALUE_INFO_NAME, name) + encode_field(
        VALUE_INFO_TYPE, encode_field(TYPE_TENSOR, tensor_type)
    )


def _name_of(message: bytes, name_field: int) -> str:
    for number, _, payload in iter_fields(message):
        if number == name_field and isinstance(payload, bytes):
            return payload.decode()
    return ""


def with_dynamic_shapes(model: bytes, shapes: Mapping[str, Sequence[Dim]]) -> bytes:
    """Return the model with the named inputs/outputs re-declared with `shapes` (str = dynamic),
    and with initializers dropped from the graph inputs so ONNX Runtime may fold them."""
    top = list(iter_fields(model))
    graph_index = next((i for i, f in enumerate(top) if f[0] == MODEL_GRAPH), None)
    graph_bytes = top[graph_index][2] if graph_index is not None else None
    if graph_index is None or not isinstance(graph_bytes, bytes):
        raise ModelError("MODEL_INVALID", "The ONNX file has no graph.")
    graph = list(iter_fields(graph_bytes))
    initializers = {
        _name_of(p, TENSOR_NAME)
        for n, _, p in graph
        if n == GRAPH_INITIALIZER and isinstance(p, bytes)
    }
    patched: list[Field] = []
    for number, wire, payload in graph:
        if number in (GRAPH_INPUT, GRAPH_OUTPUT) and isinstance(payload, bytes):
            name = _name_of(payload, VALUE_INFO_NAME)
            if number == GRAPH_INPUT and name in initializers:
                continue
            if name in shapes:
                payload = tensor_value_info(name, shapes[name])
        patched.append((number, wire, payload))
    top[graph_index] = (MODEL_GRAPH, 2, _encode(patched))
    return _encode(top)


def graph_io(model: bytes) -> tuple[list[str], list[str]]:
    """Names of a model's true inputs (initializers excluded) and of its outputs."""
    graph_bytes = next(
        (p for n, _, p in iter_fields(model) if n == MODEL_GRAPH and isinstance(p, bytes)), b""
    )
    graph = list(iter_fields(graph_bytes))
    initializers = {
        _name_of(p, TENSOR_NAME)
        for n, _, p in graph
        if n == GRAPH_INITIALIZER and isinstance(p, bytes)
    }
    inputs = [
        _name_of(p, VALUE_INFO_NAME)
        for n, _, p in graph
        if n == GRAPH_INPUT and isinstance(p, bytes)
    ]
    outputs = [
        _name_of(p, VALUE_INFO_NAME)
        for n, _, p in graph
        if n == GRAPH_OUTPUT and isinstance(p, bytes)
    ]
    return [i for i in inputs if i not in initializers], outputs


# Writing small graphs: the dlib ResNet converter and the tests build ONNX models with these.
_NODE_INPUT, _NODE_OUTPUT, _NODE_OP, _NODE_ATTRIBUTE = 1, 2, 4, 5
_ATTR_NAME, _ATTR_INT, _ATTR_INTS, _ATTR_TYPE = 1, 3, 8, 20
_ATTR_TYPE_INT, _ATTR_TYPE_INTS = 2, 7
_TENSOR_DIMS, _TENSOR_TYPE, _TENSOR_RAW = 1, 2, 9
_MODEL_IR_VERSION, _MODEL_PRODUCER, _MODEL_OPSET = 1, 2, 8
_OPSET_VERSION = 2
INT64 = 7

Attribute = int | Sequence[int]


def node(op: str, inputs: Sequence[str], outputs: Sequence[str], **attributes: Attribute) -> bytes:
    """A NodeProto; int and int-list attributes only."""
    encoded = b"".join(encode_field(_NODE_INPUT, name) for name in inputs)
    encoded += b"".join(encode_field(_NODE_OUTPUT, name) for name in outputs)
    encoded += encode_field(_NODE_OP, op)
    for name, value in attributes.items():
        if isinstance(value, int):
            body = encode_field(_ATTR_NAME, name) + encode_field(_ATTR_INT, value)
            body += encode_field(_ATTR_TYPE, _ATTR_TYPE_INT)
        else:
            body = encode_field(_ATTR_NAME, name)
            body += b"".join(encode_field(_ATTR_INTS, v) for v in value)
            body += encode_field(_ATTR_TYPE, _ATTR_TYPE_INTS)
        encoded += encode_field(_NODE_ATTRIBUTE, body)
    return encoded


def tensor(name: str, dims: Sequence[int], raw: bytes, elem_type: int = FLOAT) -> bytes:
    """A TensorProto holding raw little-endian data."""
    return (
        b"".join(encode_field(_TENSOR_DIMS, int(d)) for d in dims)
        + encode_field(_TENSOR_TYPE, elem_type)
        + encode_field(TENSOR_NAME, name)
        + encode_field(_TENSOR_RAW, raw)
    )


def model(
    name: str,
    nodes: Sequence[bytes],
    initializers: Sequence[bytes],
    inputs: Sequence[bytes],
    outputs: Sequence[bytes],
    opset: int = 13,
) -> bytes:
    """A ModelProto (IR version 7) from encoded nodes, initializers and value infos."""
    graph = b"".join(encode_field(GRAPH_NODE, n) for n in nodes)
    graph += encode_field(GRAPH_NAME, name)
    graph += b"".join(encode_field(GRAPH_INITIALIZER, t) for t in initializers)
    graph += b"".join(encode_field(GRAPH_INPUT, v) for v in inputs)
    graph += b"".join(encode_field(GRAPH_OUTPUT, v) for v in outputs)
    return (
        encode_field(_MODEL_IR_VERSION, 7)
        + encode_field(_MODEL_PRODUCER, "facepass")
        + encode_field(MODEL_GRAPH, graph)
        + encode_field(_MODEL_OPSET, encode_field(_OPSET_VERSION, opset))
    )
