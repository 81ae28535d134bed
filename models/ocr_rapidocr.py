"""OCR backend: RapidOCR (PP-OCRv4 ONNX models bundled in rapidocr-onnxruntime 1.4.x)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from models.base import OCR, ImageArray, TextBox
from models.errors import ModelNotInstalled


class RapidOCRBackend(OCR):
    model_id = "rapidocr:PP-OCRv4"

    def __init__(self, min_score: float = 0.5, max_side: int = 1280, threads: int = 0) -> None:
        self.min_score = min_score
        self.max_side = max_side
        self.threads = threads
        self._engine: Any = None

    def _load(self) -> Any:
        if self._engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError:
                raise ModelNotInstalled("rapidocr-onnxruntime==1.4.4", "ocr") from None
            params: dict[str, Any] = {
                # "max": shrink big frames, never blow small ones up (the default "min" upscales
                # a 360p frame to 736 px and triples the cost)
                "det_limit_type": "max",
                "det_limit_side_len": self.max_side,
            }
            if self.threads:
                params["intra_op_num_threads"] = self.threads
            _no_spinning()
            _float32_normalize()
            self._engine = RapidOCR(**params)
        return self._engine

    def read_batch(self, images: Sequence[ImageArray]) -> list[list[TextBox]]:
        engine = self._load()
        out: list[list[TextBox]] = []
        for image in images:
            bgr = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)  # the same bytes as image[..., ::-1], ~20x faster
            result, _elapsed = engine(bgr, use_cls=False)
            lines = []
            for box, text, score in result or ():
                text = str(text).strip()
                if text and float(score) >= self.min_score:
                    corners = tuple((float(x), float(y)) for x, y in box)
                    lines.append(TextBox(text, float(score), corners))
            out.append(lines)
        return out


def _no_spinning() -> None:
    """RapidOCR's onnxruntime sessions with their idle threads asleep, not spinning (the library
    exposes no option for it: its session-options builder is wrapped once). Spinning threads on a
    busy machine hold a core while the one they wait for has none: a screenshot took 4.5 s and
    4.2 CPU-s with 2 threads at load 9, against 2.9 s with 1 thread."""
    from rapidocr_onnxruntime.utils import infer_engine

    build = infer_engine.OrtInferSession._init_sess_opts
    if getattr(build, "no_spinning", False):
        return

    def without_spinning(config: Any) -> Any:
        options = build(config)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return options

    without_spinning.no_spinning = True  # type: ignore[attr-defined]
    infer_engine.OrtInferSession._init_sess_opts = staticmethod(without_spinning)


def _float32_normalize() -> None:
    """The text detector's input normalised in float32: the library computes
    ``(x * (1/255) - mean) / std`` with float64 mean and std (0.5, 0.5, 0.5), so every pixel goes
    through float64 and back to float32 — 15% of a 360p frame's OCR (3.4 of ~28 CPU-ms; 22 ms at
    720p). With mean and std 0.5 the float32 arithmetic gives the same float32 bits: ``x * s`` is
    float32 in both; ``y - 0.5`` is rounded once to float32 either way, and dividing by 0.5 is
    exact (tests/models/test_ocr_normalize.py checks all 256 pixel values against the library's
    own function). Other means or stds keep the library's code."""
    from rapidocr_onnxruntime.ch_ppocr_det import utils

    own = utils.DetPreProcess.normalize
    if getattr(own, "float32", False):
        return

    def normalize(self: Any, img: np.ndarray) -> np.ndarray:
        if not (np.all(self.mean == 0.5) and np.all(self.std == 0.5)):
            return own(self, img)
        out = img.astype(np.float32) * np.float32(self.scale)
        out -= np.float32(0.5)
        out /= np.float32(0.5)
        return out

    normalize.float32 = True  # type: ignore[attr-defined]
    normalize.library = own  # type: ignore[attr-defined]
    utils.DetPreProcess.normalize = normalize
