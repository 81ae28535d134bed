"""Faces with dlib (``dlib-bin``): HOG detector, 5-point landmarks, the 128-d ResNet encoder.

The ``.dat`` files come from the ``face-recognition-models`` package, found on disk without
importing it (its ``__init__`` needs ``pkg_resources``), or from ``model_dir``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models._packaged import package_dir
from models.base import Face, FaceEncoder, FloatArray, ImageArray
from models.errors import ModelLoadError, ModelNotInstalled

LANDMARKS = "shape_predictor_5_face_landmarks.dat"
ENCODER = "dlib_face_recognition_resnet_model_v1.dat"


def bundled_dat_dir() -> Path:
    return package_dir("face_recognition_models", "face-recognition-models==0.3.0", "face_encoder") / "models"


class DlibFaceEncoder(FaceEncoder):
    model_id = "dlib-resnet-v1"
    dim = 128
    same_person = 0.6  # dlib's documented threshold; on the reference photos others are 0.71-0.91

    def __init__(self, model_dir: str | None = None, upsample: int = 1, min_score: float = 0.0) -> None:
        self.model_dir = Path(model_dir) if model_dir else None
        self.upsample = upsample
        self.min_score = min_score
        self._parts: Any = None

    def _load(self) -> Any:
        if self._parts is None:
            try:
                import dlib
            except ImportError:
                raise ModelNotInstalled("dlib-bin", "face_encoder") from None
            folder = self.model_dir or bundled_dat_dir()
            for name in (LANDMARKS, ENCODER):
                if not (folder / name).is_file():
                    raise ModelLoadError(f"no {name} in {folder}")
            self._parts = (
                dlib,
                dlib.get_frontal_face_detector(),
                dlib.shape_predictor(str(folder / LANDMARKS)),
                dlib.face_recognition_model_v1(str(folder / ENCODER)),
            )
        return self._parts

    def detect_batch(self, images: Sequence[ImageArray]) -> list[list[Face]]:
        _dlib, detector, _sp, _enc = self._load()
        out = []
        for image in images:
            rects, scores, _ = detector.run(np.ascontiguousarray(image), self.upsample, self.min_score)
            h, w = image.shape[:2]
            out.append([
                Face((max(0, r.left()), max(0, r.top()), min(w, r.right()), min(h, r.bottom())), round(float(s), 4))
                for r, s in zip(rects, scores)
            ])
        return out

    def embed_faces(self, image: ImageArray, boxes: Sequence[tuple[int, int, int, int]]) -> FloatArray:
        dlib, _det, predictor, encoder = self._load()
        image = np.ascontiguousarray(image)
        vectors = np.zeros((len(boxes), self.dim), dtype=np.float32)
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            shape = predictor(image, dlib.rectangle(int(x0), int(y0), int(x1), int(y1)))
            vectors[i] = np.asarray(encoder.compute_face_descriptor(image, shape), dtype=np.float32)
        return vectors
