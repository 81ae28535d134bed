"""dlib's face ResNet (``dlib_face_recognition_resnet_model_v1.dat``) read without dlib: its
serialization format (``dlib/serialize.h``, ``dlib/dnn/core.h``, ``layers.h``, ``input.h``,
``tensor.h``) parsed in pure Python/numpy, and the network as a :class:`NetSpec` (each trained
``affine_`` folded into its convolution) that ``models.face_resnet_torch`` and
``models.face_resnet_onnx`` run. See ``models.face_resnet`` for what is reproduced and measured."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

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
