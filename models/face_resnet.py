"""dlib's 128-d face descriptor ResNet without dlib: weights read from dlib's own ``.dat``,
run by onnxruntime (default) or torch.

dlib's ``face_recognition_model_v1.compute_face_descriptor`` costs ~0.1 s per face on one core
when dlib is built without BLAS (as ``dlib-bin`` is). This module rebuilds the same network
(``anet_type`` of dlib's ``examples/dnn_face_recognition_ex.cpp``, a 29-conv ResNet on 150x150
chips) from ``dlib_face_recognition_resnet_model_v1.dat``, parsed here in pure Python/numpy from
dlib's serialization format (``dlib/serialize.h``, ``dlib/dnn/core.h``, ``layers.h``,
``input.h``, ``tensor.h``); no conversion tool, download or cache file (parsing: ~0.05 s). The
parsed network becomes a ``torch.nn.Module`` (:class:`DlibFaceResNet`) and an ONNX graph written
in memory (:func:`onnx_model_bytes`: protobuf bytes built here, so neither the ``onnx`` package
nor ``torch.onnx`` and its warnings are needed) that onnxruntime runs.

What it reproduces, from dlib's sources:

* input (``input_rgb_image_sized<150>``): ``(pixel - mean) / 256`` per channel, the means
  (122.782, 117.001, 104.298) read from the file;
* ``con_``: cross-correlation, weights ``(filters, k, nr, nc)`` then biases in one params tensor,
  zero padding as stored in the file (dlib's default: ``k/2`` when the stride is 1, else 0, so
  the 7x7/2 stem and the strided 3x3 convolutions have none: 150 -> 72 -> max pool 35);
* ``affine_`` (the trained batch norms): ``x * gamma + beta`` per channel, gamma then beta in the
  params tensor; folded into the preceding convolution here;
* ``max_pool_``/``avg_pool_``: windows clipped to the image (padding never counted);
* ``add_prev_``: tensors of different shapes are added with the missing elements taken as 0
  (the shortcut of a down-sampling block has half the channels, and its 2x2 average pool can be
  a row and column larger or smaller than the block's strided convolution: 17 -> 8 vs 8, 8 -> 4
  vs 3, 4 -> 2 vs 1);
* ``fc_`` without bias: ``x @ W`` with ``W`` stored ``(inputs, outputs)``; ``loss_metric_``
  outputs that vector unchanged (not normalised).

``compute_face_descriptor(image, shape)`` with ``num_jitters=0`` runs the network on
``extract_image_chips(image, get_face_chip_details(shape, 150, 0.25))``, which is exactly what
``dlib.get_face_chip(image, shape, size=150, padding=0.25)`` returns: :func:`face_chip` calls it
(the chip, ~0.4 ms, and the 5-point landmarks stay with dlib; only the ResNet moves).

Measured against dlib 20.0.1 on 21 faces (the reference photos and frames of the clip), one
thread, 2-core x86: max absolute difference 4e-7 (descriptor norms ~1.4). Per face:

                 batch of 1    batch of 8 (per face)
    dlib          ~100 ms       ~100 ms
    onnxruntime   8.4 ms        6.8-7.9 ms
    torch         12-16 ms      7.8 ms   (channels-last; 15-18 ms at batch 1 without)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

FloatArray = npt.NDArray[np.float32]
ImageArray = npt.NDArray[np.uint8]

CHIP_SIZE = 150
CHIP_PADDING = 0.25
DIM = 128


class DlibFormatError(ValueError):
    """The file is not the dlib face ResNet this module knows."""


# ---------------------------------------------------------------------------------------------
# dlib's serialization primitives (dlib/serialize.h, dlib/dnn/tensor.h)


class _Reader:
    """Reads dlib's ``serialize()`` stream: packed ints, strings, floats, tensors."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def _fail(self, what: str) -> DlibFormatError:
        return DlibFormatError(f"{what} at byte {self.pos}")

    def read_int(self) -> int:
        """``pack_int``: a control byte (size in the low nibble, 0x80 = negative), then the
        value's bytes, little-endian."""
        if self.pos >= len(self.data):
            raise self._fail("end of file")
        control = self.data[self.pos]
        size = control & 0x0F
        if size == 0 or size > 8 or control & 0x70:
            raise self._fail(f"bad integer control byte {control:#x}")
        start = self.pos + 1
        value = int.from_bytes(self.data[start : start + size], "little")
        self.pos = start + size
        return -value if control & 0x80 else value

    def read_bool(self) -> bool:
        """bools are one ASCII char, '1' or '0'."""
        ch = self.data[self.pos]
        if ch not in (0x30, 0x31):
            raise self._fail(f"bad bool byte {ch:#x}")
        self.pos += 1
        return ch == 0x31

    def read_str(self) -> str:
        n = self.read_int()
        if not 0 <= n <= 256:
            raise self._fail(f"implausible string length {n}")
        s = bytes(self.data[self.pos : self.pos + n]).decode("ascii", errors="replace")
        self.pos += n
        return s

    def read_float(self) -> float:
        """``float_details``: int64 mantissa and int16 exponent, value = mantissa * 2**exponent
        (exponents 32000/32001/32002 mark inf/-inf/nan)."""
        mantissa = self.read_int()
        exponent = self.read_int()
        if exponent >= 32000:
            return {32000: math.inf, 32001: -math.inf}.get(exponent, math.nan)
        return math.ldexp(mantissa, exponent)

    def read_tensor(self) -> FloatArray:
        """``serialize(const tensor&)`` version 2: n, k, nr, nc, then raw little-endian float32."""
        version = self.read_int()
        if version != 2:
            raise self._fail(f"tensor version {version}, expected 2")
        shape = (self.read_int(), self.read_int(), self.read_int(), self.read_int())
        count = shape[0] * shape[1] * shape[2] * shape[3]
        end = self.pos + 4 * count
        if end > len(self.data):
            raise self._fail("tensor runs past the end of the file")
        values = np.frombuffer(self.data[self.pos : end], dtype="<f4").astype(np.float32).reshape(shape)
        self.pos = end
        return values

    def read_alias(self) -> tuple[int, int, int, int]:
        version = self.read_int()
        if version != 1:
            raise self._fail(f"alias_tensor version {version}, expected 1")
        return (self.read_int(), self.read_int(), self.read_int(), self.read_int())

    def expect(self, value: int, what: str) -> None:
        got = self.read_int()
        if got != value:
            raise self._fail(f"{what}: {got}, expected {value}")


# ---------------------------------------------------------------------------------------------
# the network's layers, in the order dlib serializes them (input first, loss last)


@dataclass
class Layer:
    kind: str  # con | affine | relu | max_pool | avg_pool | add_prev | fc | tag | skip
    params: dict[str, Any] = field(default_factory=dict)


# ares<N>: relu<add_prev1<affine<con<N,3,3,1,1,relu<affine<con<N,3,3,1,1,tag1<...>>>>>>>>
ARES = ("tag", "con", "affine", "relu", "con", "affine", "add_prev", "relu")
# ares_down<N>: relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<affine<con<N,3,3,1,1,relu<affine<
#     con<N,3,3,2,2,tag1<...>>>>>>>>>>>
ARES_DOWN = ("tag", "con", "affine", "relu", "con", "affine", "tag", "skip", "avg_pool", "add_prev", "relu")


# (channels, stride) of each residual block, input side first:
# alevel4 = 3 x ares<32>; alevel3 = ares_down<64> + 3 x ares<64>; alevel2 = ares_down<128> +
# 2 x ares<128>; alevel1 = ares_down<256> + 2 x ares<256>; alevel0 = ares_down<256>
BLOCKS: tuple[tuple[int, int], ...] = (
    (32, 1), (32, 1), (32, 1),
    (64, 2), (64, 1), (64, 1), (64, 1),
    (128, 2), (128, 1), (128, 1),
    (256, 2), (256, 1), (256, 1),
    (256, 2),
)  # fmt: skip


def _layer_kinds() -> list[str]:
    """Every layer of ``anet_type``, innermost (next to the input) first."""
    kinds = ["con", "affine", "relu", "max_pool"]
    for _channels, stride in BLOCKS:
        kinds += ARES_DOWN if stride == 2 else ARES
    return kinds + ["avg_pool", "fc"]


def _read_details(r: _Reader, kind: str) -> dict[str, Any]:
    """One layer's ``serialize(details)`` (layers.h)."""
    name = r.read_str()
    expected = {
        "con": "con_4", "affine": "affine_", "relu": "relu_", "max_pool": "max_pool_2",
        "avg_pool": "avg_pool_2", "add_prev": "add_prev_", "fc": "fc_2",
    }[kind]  # fmt: skip
    if name != expected:
        raise r._fail(f"layer {name!r}, expected {expected!r}")
    if kind == "con":
        params = r.read_tensor()
        out = {
            "params": params, "filters": r.read_int(), "nr": r.read_int(), "nc": r.read_int(),
            "stride_y": r.read_int(), "stride_x": r.read_int(), "pad_y": r.read_int(), "pad_x": r.read_int(),
            "filters_shape": r.read_alias(), "biases_shape": r.read_alias(),
        }  # fmt: skip
        for _ in range(4):  # learning rate and weight decay multipliers
            r.read_float()
        return out
    if kind == "affine":
        out = {"params": r.read_tensor(), "gamma_shape": r.read_alias(), "beta_shape": r.read_alias()}
        out["mode"] = r.read_int()  # layer_mode: 0 CONV_MODE (per channel), 1 FC_MODE
        return out
    if kind in ("max_pool", "avg_pool"):
        names = ("nr", "nc", "stride_y", "stride_x", "pad_y", "pad_x")
        return {name: r.read_int() for name in names}
    if kind == "fc":
        out = {"outputs": r.read_int(), "inputs": r.read_int(), "params": r.read_tensor()}
        out["weights_shape"] = r.read_alias()
        out["biases_shape"] = r.read_alias()
        out["bias_mode"] = r.read_int()  # 0: FC_HAS_BIAS, 1: FC_NO_BIAS
        for _ in range(4):
            r.read_float()
        return out
    return {}  # relu_, add_prev_: the name only


def parse_dlib_resnet(path: str | Path) -> tuple[tuple[float, float, float], list[Layer]]:
    """Read ``dlib_face_recognition_resnet_model_v1.dat``: the input means and the layers
    (input side first, tag/skip layers included)."""
    r = _Reader(Path(path).read_bytes())
    kinds = _layer_kinds()
    # add_loss_layer: version, loss details, then the network
    r.expect(1, "add_loss_layer version")
    loss = r.read_str()
    if not loss.startswith("loss_metric_"):
        raise r._fail(f"loss {loss!r}, expected loss_metric_")
    r.read_float()  # margin
    r.read_float()  # distance threshold
    # each wrapper writes its version, then its subnetwork before its own details: the versions
    # of all wrappers come first, outermost first (add_layer 2, tag/skip 1, the one holding the
    # input 2 or 3)
    for kind in reversed(kinds[1:]):
        r.expect(1 if kind in ("tag", "skip") else 2, f"{kind} wrapper version")
    input_version = r.read_int()
    if input_version not in (2, 3):
        raise r._fail(f"input add_layer version {input_version}")
    if (name := r.read_str()) != "input_rgb_image_sized":
        raise r._fail(f"input {name!r}")
    mean = (r.read_float(), r.read_float(), r.read_float())
    if (r.read_int(), r.read_int()) != (CHIP_SIZE, CHIP_SIZE):
        raise r._fail("input size is not 150x150")
    layers: list[Layer] = []
    for i, kind in enumerate(kinds):
        if kind in ("tag", "skip"):
            layers.append(Layer(kind))
            continue
        layers.append(Layer(kind, _read_details(r, kind)))
        for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, output disabled
            r.read_bool()
        r.read_tensor()  # x_grad
        r.read_tensor()  # cached_output
        r.read_tensor()  # params_grad (grad_final for the layer on the input)
        if i == 0 and input_version == 3:
            r.read_int()  # sample expansion factor
    if r.pos != len(r.data):
        raise r._fail(f"{len(r.data) - r.pos} bytes left over")
    return mean, layers


# ---------------------------------------------------------------------------------------------
# the network with each affine_ folded into its convolution: what both backends run


@dataclass(frozen=True)
class Conv:
    weight: FloatArray  # (filters, k, nr, nc)
    bias: FloatArray  # (filters,)
    stride: tuple[int, int]
    pad: tuple[int, int]


@dataclass(frozen=True)
class Pool:
    window: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int]


@dataclass(frozen=True)
class Block:
    """``relu(conv2(relu(conv1(x))) + shortcut)``: the shortcut is ``x``, or for a down block
    ``pool(x)``, the two zero-padded to the larger shape (dlib's ``add_prev_``)."""

    conv1: Conv
    conv2: Conv
    pool: Pool | None


@dataclass(frozen=True)
class NetSpec:
    mean: tuple[float, float, float]
    stem: Conv
    max_pool: Pool
    blocks: tuple[Block, ...]
    fc: FloatArray  # (inputs, outputs): descriptor = features @ fc


def _conv_affine(con: Layer, affine: Layer) -> Conv:
    """A ``con_`` followed by an ``affine_``, as one convolution: (W x + b) gamma + beta."""
    p = con.params
    n, k, nr, nc = p["filters_shape"]
    size = n * k * nr * nc
    if p["biases_shape"][1] != n or p["params"].size != size + n:
        raise DlibFormatError("con_ parameter sizes do not match")
    flat = p["params"].reshape(-1).astype(np.float64)
    a = affine.params
    if a["mode"] != 0 or a["gamma_shape"][1] != n or a["params"].size != 2 * n:
        raise DlibFormatError("affine_ does not match its convolution")
    gamma, beta = a["params"].reshape(-1)[:n].astype(np.float64), a["params"].reshape(-1)[n:].astype(np.float64)
    weight = flat[:size].reshape(n, k, nr, nc) * gamma[:, None, None, None]
    bias = flat[size:] * gamma + beta
    stride, pad = (p["stride_y"], p["stride_x"]), (p["pad_y"], p["pad_x"])
    return Conv(weight.astype(np.float32), bias.astype(np.float32), stride, pad)


def _pool(p: dict[str, int]) -> Pool:
    return Pool((p["nr"], p["nc"]), (p["stride_y"], p["stride_x"]), (p["pad_y"], p["pad_x"]))


def build_spec(mean: tuple[float, float, float], layers: list[Layer]) -> NetSpec:
    it = iter([layer for layer in layers if layer.kind not in ("tag", "skip")])

    def take(kind: str) -> Layer:
        layer = next(it)
        if layer.kind != kind:
            raise DlibFormatError(f"layer {layer.kind}, expected {kind}")
        return layer

    stem = _conv_affine(take("con"), take("affine"))
    take("relu")
    max_pool = _pool(take("max_pool").params)
    blocks = []
    for _channels, stride in BLOCKS:
        conv1 = _conv_affine(take("con"), take("affine"))
        take("relu")
        conv2 = _conv_affine(take("con"), take("affine"))
        pool = _pool(take("avg_pool").params) if stride == 2 else None
        take("add_prev")
        take("relu")
        blocks.append(Block(conv1, conv2, pool))
    gp = take("avg_pool").params
    if (gp["nr"], gp["nc"], gp["pad_y"], gp["pad_x"]) != (0, 0, 0, 0):
        raise DlibFormatError("expected avg_pool_everything before the fc layer")
    fc = take("fc").params
    n_in, n_out = fc["inputs"], fc["outputs"]
    if fc["bias_mode"] != 1 or fc["weights_shape"][:2] != (n_in, n_out) or fc["params"].size != n_in * n_out:
        raise DlibFormatError("expected fc_no_bias<128> with (inputs, outputs) weights")
    weights = np.ascontiguousarray(fc["params"].reshape(n_in, n_out), dtype=np.float32)
    return NetSpec(mean, stem, max_pool, tuple(blocks), weights)


def load_spec(dat_path: str | Path) -> NetSpec:
    return build_spec(*parse_dlib_resnet(dat_path))


# ---------------------------------------------------------------------------------------------
# torch


def _torch_conv(c: Conv, memory_format: torch.memory_format) -> nn.Conv2d:
    n, k, nr, nc = c.weight.shape
    conv = nn.Conv2d(k, n, (nr, nc), stride=c.stride, padding=c.pad)
    conv.weight = nn.Parameter(torch.from_numpy(c.weight).contiguous(memory_format=memory_format), requires_grad=False)
    conv.bias = nn.Parameter(torch.from_numpy(c.bias), requires_grad=False)
    return conv


def _add_zero_padded(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's ``tt::add(dest, src1, src2)``: shapes may differ, missing elements count as 0."""
    c, h, w = max(a.shape[1], b.shape[1]), max(a.shape[2], b.shape[2]), max(a.shape[3], b.shape[3])
    if tuple(a.shape[1:]) != (c, h, w):
        a = F.pad(a, (0, w - a.shape[3], 0, h - a.shape[2], 0, c - a.shape[1]))
    if tuple(b.shape[1:]) != (c, h, w):
        b = F.pad(b, (0, w - b.shape[3], 0, h - b.shape[2], 0, c - b.shape[1]))
    return a + b


class _TorchBlock(nn.Module):
    def __init__(self, block: Block, memory_format: torch.memory_format) -> None:
        super().__init__()
        self.conv1 = _torch_conv(block.conv1, memory_format)
        self.conv2 = _torch_conv(block.conv2, memory_format)
        self.pool = block.pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.conv1(x)))
        if self.pool is None:
            return F.relu(y + x)
        p = self.pool
        shortcut = F.avg_pool2d(x, p.window, p.stride, p.pad, count_include_pad=False)
        return F.relu(_add_zero_padded(shortcut, y))


class DlibFaceResNet(nn.Module):
    """dlib's ``anet_type`` in torch: uint8 RGB chips (N, 150, 150, 3) in, (N, 128) out.
    ``channels_last`` (the default) is ~1.3x faster on CPU at batch 1."""

    mean: torch.Tensor

    def __init__(self, spec: NetSpec, channels_last: bool = True) -> None:
        super().__init__()
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.register_buffer("mean", torch.tensor(spec.mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.stem = _torch_conv(spec.stem, self.memory_format)
        self.max_pool = spec.max_pool
        self.blocks = nn.Sequential(*[_TorchBlock(b, self.memory_format) for b in spec.blocks])
        n_in, n_out = spec.fc.shape
        self.fc = nn.Linear(n_in, n_out, bias=False)
        self.fc.weight = nn.Parameter(torch.from_numpy(np.ascontiguousarray(spec.fc.T)), requires_grad=False)
        self.eval()

    def forward(self, chips: torch.Tensor) -> torch.Tensor:
        """``chips``: uint8 or float (N, 150, 150, 3) RGB, 0-255."""
        x = (chips.permute(0, 3, 1, 2).float() - self.mean) / 256.0
        x = F.relu(self.stem(x.contiguous(memory_format=self.memory_format)))
        p = self.max_pool
        x = self.blocks(F.max_pool2d(x, p.window, p.stride, p.pad))
        descriptors: torch.Tensor = self.fc(x.mean(dim=(2, 3)))
        return descriptors


def load_dlib_face_resnet(dat_path: str | Path, channels_last: bool = True) -> DlibFaceResNet:
    return DlibFaceResNet(load_spec(dat_path), channels_last)


# ---------------------------------------------------------------------------------------------
# ONNX, written directly (protobuf wire format, onnx.proto field numbers): no ``onnx`` package
# and no ``torch.onnx`` export (with its warnings) needed; onnxruntime reads the bytes


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


# ---------------------------------------------------------------------------------------------
# the public face


def face_chip(image: ImageArray, shape: Any) -> ImageArray:
    """The 150x150 aligned chip dlib's ``compute_face_descriptor`` feeds its network
    (``get_face_chip_details(shape, 150, 0.25)`` + ``extract_image_chips``)."""
    import dlib

    chip: ImageArray = dlib.get_face_chip(np.ascontiguousarray(image), shape, size=CHIP_SIZE, padding=CHIP_PADDING)
    return chip


Backend = Literal["onnxruntime", "torch"]


class FaceResNet:
    """dlib's face descriptor without dlib's slow ResNet: ``embed_chips`` gives what
    ``compute_face_descriptor(image, shape)`` gives for the faces those chips came from.

    ``backend``: ``"onnxruntime"`` (default, fastest: the graph written in memory from the
    parsed weights) or ``"torch"`` (:class:`DlibFaceResNet`, channels-last; it uses torch's
    global thread setting). ``num_threads``: onnxruntime's intra-op threads (1 by default, as
    measured; 0 lets onnxruntime use every core)."""

    dim = DIM

    def __init__(self, dat_path: str | Path, backend: Backend = "onnxruntime", num_threads: int = 1) -> None:
        spec = load_spec(dat_path)
        self.backend = backend
        self._session: Any = None
        self.net: DlibFaceResNet | None = None
        if backend == "onnxruntime":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = num_threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as models/ocr_rapidocr.py
            options.log_severity_level = 3  # errors only
            self._session = ort.InferenceSession(onnx_model_bytes(spec), options, providers=["CPUExecutionProvider"])
        elif backend == "torch":
            self.net = DlibFaceResNet(spec)
        else:
            raise ValueError(f"unknown backend {backend!r}")

    def embed_chips(self, chips: Sequence[ImageArray]) -> FloatArray:
        """uint8 RGB 150x150 chips (from :func:`face_chip`) -> (N, 128) float32, one forward."""
        if len(chips) == 0:
            return np.zeros((0, DIM), dtype=np.float32)
        for chip in chips:
            if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3) or chip.dtype != np.uint8:
                raise ValueError(f"chips must be uint8 (150, 150, 3), got {chip.dtype} {chip.shape}")
        batch = np.ascontiguousarray(np.stack(chips))
        if self._session is not None:
            out: FloatArray = self._session.run(None, {"chips": batch})[0]
        else:
            assert self.net is not None
            with torch.inference_mode():
                out = self.net(torch.from_numpy(batch)).numpy()
        return out.astype(np.float32, copy=False)

    def embed_faces(self, image: ImageArray, shapes: Sequence[Any]) -> FloatArray:
        """dlib ``full_object_detection`` shapes (5- or 68-point) in ``image`` -> descriptors."""
        return self.embed_chips([face_chip(image, s) for s in shapes])
