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

The parts: ``models.face_resnet_spec`` (the ``.dat`` parser and the network's spec),
``models.face_resnet_torch`` (the torch module, imported only for the torch backend: the
default onnxruntime backend does not import torch) and ``models.face_resnet_onnx`` (the graph).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from models.face_resnet_onnx import onnx_model_bytes
from models.face_resnet_spec import CHIP_PADDING, CHIP_SIZE, DIM, DlibFormatError, NetSpec, load_spec, parse_dlib_resnet

FloatArray = npt.NDArray[np.float32]
ImageArray = npt.NDArray[np.uint8]

__all__ = ["CHIP_SIZE", "DIM", "DlibFormatError", "FaceResNet", "NetSpec", "face_chip", "load_spec",
           "onnx_model_bytes", "parse_dlib_resnet"]


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
        self.net: Any = None  # models.face_resnet_torch.DlibFaceResNet
        if backend == "onnxruntime":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = num_threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as models/ocr_rapidocr.py
            options.log_severity_level = 3  # errors only
            self._session = ort.InferenceSession(onnx_model_bytes(spec), options, providers=["CPUExecutionProvider"])
        elif backend == "torch":
            from models.face_resnet_torch import DlibFaceResNet

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
            import torch

            assert self.net is not None
            with torch.inference_mode():
                out = self.net(torch.from_numpy(batch)).numpy()
        return out.astype(np.float32, copy=False)

    def embed_faces(self, image: ImageArray, shapes: Sequence[Any]) -> FloatArray:
        """dlib ``full_object_detection`` shapes (5- or 68-point) in ``image`` -> descriptors."""
        return self.embed_chips([face_chip(image, s) for s in shapes])
