"""Image embedding backend: CLIP, SigLIP or SigLIP2 through transformers.

``model`` is a local model folder (``config.json``, weights, tokenizer files,
``preprocessor_config.json``) or a hub id (only where the user allows hub access). Works without
torchvision: images go through the slow (PIL / numpy) image processor of the model's family and
texts through the tokenizer directly, never through ``AutoProcessor``, which would reach for the
torchvision-based fast processors first.

SigLIP's ``SiglipTokenizer`` needs the ``sentencepiece`` package; checkpoints that ship a
``tokenizer.json`` (all SigLIP2 ones, and some SigLIP ones) load without it.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.base import FloatArray, ImageArray, ImageEmbedder
from models.errors import ModelLoadError, ModelNotInstalled

ROLE = "image_embedder"
# model_type -> the slow image processor class of that family
IMAGE_PROCESSORS = {
    "clip": "CLIPImageProcessor",
    "siglip": "SiglipImageProcessor",
    "siglip2": "Siglip2ImageProcessor",
}
_DTYPES = {
    "float32": "float32", "fp32": "float32",
    "float16": "float16", "fp16": "float16", "half": "float16",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def as_rgb(image: Any) -> ImageArray:
    """``image`` as a contiguous (H, W, 3) uint8 array: grayscale is repeated to three channels,
    RGBA loses its alpha. Anything else is a ValueError."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"images must be uint8 arrays, got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB, (H, W) gray or (H, W, 4) RGBA image, got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"empty image of shape {array.shape}")
    return np.ascontiguousarray(array)


class TransformersImageEmbedder(ImageEmbedder):
    """CLIP / SigLIP / SigLIP2 image and text towers; vectors are float32, L2-normalised."""

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        dtype: str | None = None,
        batch_size: int = 16,
    ) -> None:
        """``model``: a model folder or a hub id. ``dtype``: float32 / float16 / bfloat16
        (default float16 on CUDA, float32 elsewhere). ``batch_size``: images or texts per forward."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        name = (dtype or ("float16" if device.startswith("cuda") else "float32")).lower()
        if name not in _DTYPES:
            raise ValueError(f"unknown dtype '{dtype}' (float32, float16 or bfloat16)")
        self.source = str(model)
        self.device = device
        self.dtype = _DTYPES[name]
        self.batch_size = batch_size
        self._config: Any = None
        self._model: Any = None
        self._processor: Any = None
        self._tokenizer: Any = None
        self._max_length = 0

    # -- where the model is ------------------------------------------------------------------

    def _location(self) -> tuple[str, dict[str, Any]]:
        """The path or hub id to load from, with its ``from_pretrained`` options."""
        path = Path(self.source).expanduser()
        if path.exists():
            if not path.is_dir():
                raise ModelLoadError(f"{path} is not a model folder")
            if not (path / "config.json").is_file():
                raise ModelLoadError(f"no config.json in {path}")
            return str(path), {"local_files_only": True}
        if path.is_absolute() or self.source.startswith((".", "~")) or not _HUB_ID.match(self.source):
            raise ModelLoadError(f"no model folder at {path}")
        return self.source, {}  # a hub id: works only where the user allowed hub access

    def _load_config(self) -> Any:
        """The model's config (cheap: no weights); checks the model family is supported."""
        if self._config is None:
            try:
                from transformers import AutoConfig
            except ImportError:
                raise ModelNotInstalled("transformers", ROLE) from None
            location, kwargs = self._location()
            try:
                config = AutoConfig.from_pretrained(location, **kwargs)
            except (OSError, ValueError, KeyError) as e:
                raise ModelLoadError(f"cannot read the model config at {location}: {_first_line(e)}") from None
            if config.model_type not in IMAGE_PROCESSORS:
                supported = ", ".join(IMAGE_PROCESSORS)
                raise ModelLoadError(f"{location} is a '{config.model_type}' model; supported: {supported}")
            self._config = config
        return self._config

    # -- capabilities (config only, no weights) ----------------------------------------------

    @property
    def family(self) -> str:
        """``clip``, ``siglip`` or ``siglip2``."""
        return str(self._load_config().model_type)

    @property  # type: ignore[override]
    def model_id(self) -> str:
        """``<family>:<folder or hub repo name>``, e.g. ``siglip:siglip-base-patch16-224``."""
        return f"{self.family}:{Path(self.source.rstrip('/')).name}"

    @property  # type: ignore[override]
    def dim(self) -> int:
        """Size of the shared space: CLIP's projection_dim, SigLIP's vision hidden size."""
        config = self._load_config()
        if config.model_type == "clip":
            return int(config.projection_dim)
        return int(config.vision_config.hidden_size)

    # -- loading -----------------------------------------------------------------------------

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        try:
            import torch
            import transformers
        except ImportError:
            raise ModelNotInstalled("transformers", ROLE) from None
        config = self._load_config()
        family = config.model_type
        if family != "clip":
            text_dim = getattr(config.text_config, "projection_size", None) or config.text_config.hidden_size
            if int(text_dim) != self.dim:
                raise ModelLoadError(
                    f"{self.source}: text vectors are {text_dim}-d but image vectors {self.dim}-d"
                )
        location, kwargs = self._location()
        processor_cls = getattr(transformers, IMAGE_PROCESSORS[family])
        try:
            processor = processor_cls.from_pretrained(location, **kwargs)
        except (OSError, ValueError) as e:
            raise ModelLoadError(f"cannot load the image processor at {location}: {_first_line(e)}") from None
        tokenizer = self._load_tokenizer(location, kwargs)
        try:
            model = transformers.AutoModel.from_pretrained(
                location, dtype=getattr(torch, self.dtype), **kwargs
            )
        except (OSError, ValueError, RuntimeError) as e:
            raise ModelLoadError(f"cannot load the model at {location}: {_first_line(e)}") from None
        limits = [int(config.text_config.max_position_embeddings)]
        if 0 < int(getattr(tokenizer, "model_max_length", 0) or 0) < 10**6:
            limits.append(int(tokenizer.model_max_length))
        self._max_length = min(limits)
        self._processor, self._tokenizer = processor, tokenizer
        self._model = model.to(self.device).eval()
        return self._model

    def _load_tokenizer(self, location: str, kwargs: dict[str, Any]) -> Any:
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(location, **kwargs)
        except (OSError, ValueError, ImportError, AttributeError, TypeError) as e:
            folder = Path(location)
            sentencepiece_only = not (folder / "tokenizer.json").is_file() and any(
                (folder / f).is_file() for f in ("spiece.model", "tokenizer.model")
            )
            if sentencepiece_only and importlib.util.find_spec("sentencepiece") is None:
                raise ModelNotInstalled("sentencepiece", ROLE) from None
            raise ModelLoadError(f"cannot load the tokenizer at {location}: {_first_line(e)}") from None

    def ensure_loaded(self) -> None:
        self._load()

    # -- embedding ---------------------------------------------------------------------------

    def _finish(self, features: Any) -> FloatArray:
        """Model output (tensor, or an output object holding one) → float32 unit rows."""
        import torch

        if not isinstance(features, torch.Tensor):  # some versions return a ModelOutput
            features = features.pooler_output
        vectors = torch.nn.functional.normalize(features.float(), dim=-1)
        return vectors.cpu().numpy().astype(np.float32, copy=False)

    def embed_images(self, images: Sequence[ImageArray]) -> FloatArray:
        """RGB uint8 (H, W, 3) images (gray and RGBA are converted) → (n, dim) unit rows."""
        rgb = [as_rgb(image) for image in images]  # validate before loading anything
        if not rgb:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(rgb), self.batch_size):
                inputs = self._processor(
                    images=rgb[i : i + self.batch_size], return_tensors="pt", input_data_format="channels_last"
                )
                tensors = {
                    key: value.to(self.device, dtype=model.dtype) if value.is_floating_point() else value.to(self.device)
                    for key, value in inputs.items()
                }
                out.append(self._finish(model.get_image_features(**tensors)))
        return np.concatenate(out)

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        """Texts → (n, dim) unit rows; each is truncated to the model's text length."""
        if isinstance(texts, str):
            raise TypeError("embed_texts takes a sequence of strings, not one string")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        import torch

        siglip = self.family != "clip"
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                tokens = self._tokenizer(
                    list(texts[i : i + self.batch_size]),
                    # SigLIP was trained on max-length padded ids without a mask and pools the last
                    # position; CLIP pools its end token under a causal mask, so padding is free
                    padding="max_length" if siglip else True,
                    truncation=True,
                    max_length=self._max_length,
                    return_tensors="pt",
                )
                inputs = {"input_ids": tokens["input_ids"].to(self.device)}
                if not siglip and "attention_mask" in tokens:
                    inputs["attention_mask"] = tokens["attention_mask"].to(self.device)
                out.append(self._finish(model.get_text_features(**inputs)))
        return np.concatenate(out)
