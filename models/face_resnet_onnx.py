"""dlib's face ResNet (a :class:`~models.face_resnet_spec.NetSpec`) as an ONNX graph, written
directly (protobuf wire format, onnx.proto field numbers): no ``onnx`` package and no
``torch.onnx`` export (with its warnings) needed; onnxruntime reads the bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from models.face_resnet_spec import CHIP_SIZE, Conv, DlibFormatError, NetSpec, Pool


def _varint(v: int) -> bytes:
    v &= (1 << 64) - 1  # int64 two's complement
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _f_int(field_no: int, v: int) -> bytes:
    return _varint(field_no << 3) + _varint(v)


def _f_bytes(field_no: int, data: bytes) -> bytes:
    return _varint(field_no << 3 | 2) + _varint(len(data)) + data


def _f_str(field_no: int, s: str) -> bytes:
    return _f_bytes(field_no, s.encode())


_FLOAT, _UINT8, _INT64 = 1, 2, 7  # TensorProto.DataType
_ATTR_INT, _ATTR_INTS = 2, 7  # AttributeProto.AttributeType
Attrs = dict[str, int | list[int]]


def _attr(name: str, value: int | Sequence[int]) -> bytes:
    if isinstance(value, int):
        body = _f_str(1, name) + _f_int(20, _ATTR_INT) + _f_int(3, value)
    else:
        body = _f_str(1, name) + _f_int(20, _ATTR_INTS) + b"".join(_f_int(8, v) for v in value)
    return _f_bytes(5, body)


def _value_info(name: str, elem_type: int, dims: Sequence[int | str]) -> bytes:
    shape = b"".join(_f_bytes(1, _f_str(2, d) if isinstance(d, str) else _f_int(1, d)) for d in dims)
    tensor_type = _f_int(1, elem_type) + _f_bytes(2, shape)
    return _f_str(1, name) + _f_bytes(2, _f_bytes(1, tensor_type))


class _OnnxGraph:
    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.initializers: list[bytes] = []
        self.count = 0

    def const(self, array: npt.NDArray[Any]) -> str:
        name = f"c{len(self.initializers)}"
        elem = {np.dtype(np.float32): _FLOAT, np.dtype(np.int64): _INT64}[array.dtype]
        body = b"".join(_f_int(1, d) for d in array.shape) + _f_int(2, elem) + _f_str(8, name)
        raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        self.initializers.append(body + _f_bytes(9, raw))
        return name

    def node(self, op: str, inputs: Sequence[str], attrs: Attrs | None = None, out: str = "") -> str:
        self.count += 1
        out = out or f"t{self.count}"
        body = b"".join(_f_str(1, i) for i in inputs) + _f_str(2, out) + _f_str(3, f"n{self.count}") + _f_str(4, op)
        self.nodes.append(body + b"".join(_attr(k, v) for k, v in (attrs or {}).items()))
        return out

    def conv(self, x: str, c: Conv, hw: tuple[int, int]) -> tuple[str, tuple[int, int]]:
        n, _k, nr, nc = c.weight.shape
        pads = [c.pad[0], c.pad[1], c.pad[0], c.pad[1]]
        attrs: Attrs = {"kernel_shape": [nr, nc], "strides": list(c.stride), "pads": pads}
        y = self.node("Conv", [x, self.const(c.weight), self.const(c.bias)], attrs)
        return y, _out_hw(hw, (nr, nc), c.stride, c.pad)

    def pool(self, op: str, x: str, p: Pool, hw: tuple[int, int]) -> tuple[str, tuple[int, int]]:
        pads = [p.pad[0], p.pad[1], p.pad[0], p.pad[1]]
        attrs: Attrs = {"kernel_shape": list(p.window), "strides": list(p.stride), "pads": pads}
        if op == "AveragePool":
            attrs["count_include_pad"] = 0  # dlib averages over the window clipped to the image
        y = self.node(op, [x], attrs)
        return y, _out_hw(hw, p.window, p.stride, p.pad)

    def pad_to(self, x: str, shape: tuple[int, int, int], target: tuple[int, int, int]) -> str:
        """Zero-pad (C, H, W) at the end of each axis up to ``target``."""
        if shape == target:
            return x
        ends = [0] + [t - n for n, t in zip(shape, target)]
        return self.node("Pad", [x, self.const(np.array([0, 0, 0, 0, *ends], dtype=np.int64))])


def _out_hw(hw: tuple[int, int], k: tuple[int, int], s: tuple[int, int], p: tuple[int, int]) -> tuple[int, int]:
    """dlib's (and ONNX's, without ceil_mode) output size: 1 + (n + 2 pad - window) / stride."""
    return 1 + (hw[0] + 2 * p[0] - k[0]) // s[0], 1 + (hw[1] + 2 * p[1] - k[1]) // s[1]


def onnx_model_bytes(spec: NetSpec) -> bytes:
    """The network as a serialized ONNX ModelProto (opset 17): input ``chips`` uint8
    (N, 150, 150, 3) RGB, output ``descriptors`` float32 (N, 128)."""
    g = _OnnxGraph()
    x = g.node("Cast", ["chips"], {"to": _FLOAT})
    x = g.node("Transpose", [x], {"perm": [0, 3, 1, 2]})
    x = g.node("Sub", [x, g.const(np.array(spec.mean, dtype=np.float32).reshape(1, 3, 1, 1))])
    x = g.node("Mul", [x, g.const(np.array(1.0 / 256.0, dtype=np.float32))])  # exact: a power of 2
    x, hw = g.conv(x, spec.stem, (CHIP_SIZE, CHIP_SIZE))
    x = g.node("Relu", [x])
    x, hw = g.pool("MaxPool", x, spec.max_pool, hw)
    channels = spec.stem.weight.shape[0]
    for b in spec.blocks:
        y, yhw = g.conv(x, b.conv1, hw)
        y, yhw = g.conv(g.node("Relu", [y]), b.conv2, yhw)
        out_c = b.conv2.weight.shape[0]
        if b.pool is None:
            if (out_c, yhw) != (channels, hw):
                raise DlibFormatError("identity block changes shape")
            x = g.node("Relu", [g.node("Add", [y, x])])
        else:
            s, shw = g.pool("AveragePool", x, b.pool, hw)
            # dlib's add_prev_: the larger of each dimension, the missing elements 0
            target = (max(channels, out_c), max(shw[0], yhw[0]), max(shw[1], yhw[1]))
            y = g.pad_to(y, (out_c, *yhw), target)
            x = g.node("Relu", [g.node("Add", [y, g.pad_to(s, (channels, *shw), target)])])
            out_c, yhw = target[0], (target[1], target[2])
        channels, hw = out_c, yhw
    x = g.node("Flatten", [g.node("GlobalAveragePool", [x])], {"axis": 1})
    g.node("MatMul", [x, g.const(spec.fc)], out="descriptors")
    graph = (
        b"".join(_f_bytes(1, n) for n in g.nodes)
        + _f_str(2, "dlib_face_resnet_v1")
        + b"".join(_f_bytes(5, t) for t in g.initializers)
        + _f_bytes(11, _value_info("chips", _UINT8, ["N", CHIP_SIZE, CHIP_SIZE, 3]))
        + _f_bytes(12, _value_info("descriptors", _FLOAT, ["N", spec.fc.shape[1]]))
    )
    opset = _f_str(1, "") + _f_int(2, 17)
    return _f_int(1, 8) + _f_str(2, "models.face_resnet_torch") + _f_bytes(7, graph) + _f_bytes(8, opset)
