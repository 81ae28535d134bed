"""Captioner: Qwen2.5-VL (also Qwen2-VL, Qwen3-VL) through transformers, from a local folder or
a hub id.

Inputs are built here, not by ``AutoProcessor``: the Qwen-VL processors create a video
processor that needs torchvision, which this project does not install. The slow
``Qwen2VLImageProcessor`` (numpy / PIL only) makes ``pixel_values`` and ``image_grid_thw``; the
tokenizer's chat template makes the text, and each ``<|image_pad|>`` is expanded to
``grid_t * grid_h * grid_w // merge_size**2`` tokens, as the processor does. Frames go in as
images (a sample of at most ``max_frames``). Requests are generated ``batch_size`` at a time in
one left-padded ``generate`` call; greedy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.base import Captioner, CaptionRequest
from models.caption_prompt import CAPTION_SYSTEM, caption_prompt, is_empty, parse_sentences, sample_evenly
from models.errors import ModelError, ModelLoadError, ModelNotInstalled

log = logging.getLogger(__name__)

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"
SUPPORTED = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe")

# Qwen2.5-VL's own template, used when neither the tokenizer nor the folder has one
CHATML_VL_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _is_local(source: str) -> bool:
    """A folder that exists, or anything not shaped like a hub id (``org/name``)."""
    if Path(source).exists() or os.path.isabs(source) or source.startswith((".", "~")):
        return True
    return source.count("/") != 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def expand_image_tokens(text: str, image_token: str, grids: Sequence[Sequence[int]], merge_size: int) -> str:
    """Each ``image_token`` in ``text`` (in order) → one per merged patch of its image."""
    placeholder = "\0image\0"
    for t, h, w in grids:
        if image_token not in text:
            raise ModelError("the chat template produced fewer image tokens than images")
        text = text.replace(image_token, placeholder * (int(t) * int(h) * int(w) // merge_size**2), 1)
    if image_token in text:
        raise ModelError("the chat template produced more image tokens than images")
    return text.replace(placeholder, image_token)


class QwenVLCaptioner(Captioner):
    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "cpu",
        dtype: str | None = None,
        max_new_tokens: int = 256,
        max_frames: int = 8,
        max_pixels: int | None = 512 * 28 * 28,
        batch_size: int = 4,
        threads: int = 0,
    ) -> None:
        """``model``: a model folder or a hub id (needs hub access or the hub cache).
        ``max_pixels`` caps each frame's size (never above the folder's own cap); frames are
        sampled evenly down to ``max_frames``; ``batch_size`` requests share one generate call."""
        self.source = str(Path(model).expanduser()) if model.startswith("~") else model
        self.device = device
        self.dtype = dtype or ("bfloat16" if device.startswith("cuda") else "float32")
        self.max_new_tokens = max_new_tokens
        self.max_frames = max_frames
        self.max_pixels = max_pixels
        self.batch_size = max(1, batch_size)
        self.threads = threads
        self.model_id = Path(self.source).name if _is_local(self.source) else self.source
        self._model: Any = None
        self._tokenizer: Any = None
        self._image_processor: Any = None
        self._chat_template: str | None = None
        self._image_token = "<|image_pad|>"
        self._pixel_bounds = (0, 0)  # the folder's (min, max) pixels per image

    # -- loading -----------------------------------------------------------------------------

    def _load(self) -> tuple[Any, Any, Any]:
        if self._model is not None:
            return self._model, self._tokenizer, self._image_processor
        try:
            import torch
            from transformers import AutoConfig, AutoModelForImageTextToText, AutoTokenizer
            from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor
        except ImportError:
            raise ModelNotInstalled("transformers", "captioner") from None
        if self.threads:
            torch.set_num_threads(self.threads)
        kwargs: dict[str, Any] = {}
        if _is_local(self.source):
            if not (Path(self.source) / "config.json").is_file():
                raise ModelLoadError(f"no Qwen-VL model folder (with config.json) at {self.source}")
            kwargs["local_files_only"] = True
        try:
            config = AutoConfig.from_pretrained(self.source, **kwargs)
            if config.model_type not in SUPPORTED:
                raise ModelLoadError(
                    f"{self.source} is a '{config.model_type}' model, not Qwen-VL ({', '.join(SUPPORTED)})"
                )
            tokenizer = AutoTokenizer.from_pretrained(self.source, **kwargs)
            image_processor = Qwen2VLImageProcessor.from_pretrained(self.source, **kwargs)
            raw, _ = Qwen2VLImageProcessor.get_image_processor_dict(self.source, **kwargs)
            model = AutoModelForImageTextToText.from_pretrained(
                self.source, config=config, dtype=getattr(torch, self.dtype), **kwargs
            )
        except ModelLoadError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"cannot load Qwen-VL from {self.source}: {_first_line(exc)}") from None
        # None: the tokenizer's own template; else the processor's, else Qwen2.5-VL's
        if tokenizer.chat_template:
            self._chat_template = None
        else:
            self._chat_template = self._folder_template() or CHATML_VL_TEMPLATE
        self._image_token = tokenizer.convert_ids_to_tokens(config.image_token_id)
        # The slow processor's __init__ drops a ``size`` dict (Qwen3-VL's only bounds) for its
        # defaults, so the folder's pixel bounds are read here and passed on every call.
        size = raw.get("size") if isinstance(raw.get("size"), dict) else {}
        self._pixel_bounds = (
            int(raw.get("min_pixels") or size.get("shortest_edge") or image_processor.min_pixels),
            int(raw.get("max_pixels") or size.get("longest_edge") or image_processor.max_pixels),
        )
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._tokenizer, self._image_processor = tokenizer, image_processor
        self._model = model.to(self.device).eval()
        log.info("loaded %s (%s) on %s", self.model_id, config.model_type, self.device)
        return self._model, self._tokenizer, self._image_processor

    def _folder_template(self) -> str | None:
        """The processor's template (``chat_template.json`` / ``.jinja``) of a local folder."""
        import json

        folder = Path(self.source)
        if (folder / "chat_template.jinja").is_file():
            return (folder / "chat_template.jinja").read_text()
        if (folder / "chat_template.json").is_file():
            template = json.loads((folder / "chat_template.json").read_text()).get("chat_template")
            return template if isinstance(template, str) else None
        return None

    def ensure_loaded(self) -> None:
        self._load()

    # -- inputs ------------------------------------------------------------------------------

    def build_inputs(self, requests: Sequence[CaptionRequest]) -> dict[str, Any]:
        """Model inputs for ``requests`` (left padded): input_ids, attention_mask and, when any
        request has frames, pixel_values and image_grid_thw."""
        import torch

        model, tokenizer, image_processor = self._load()
        merge = int(image_processor.merge_size)
        low, high = self._pixel_bounds
        high = min(high, self.max_pixels) if self.max_pixels else high
        pixel_args = {"min_pixels": min(low, high), "max_pixels": high}
        rows: list[list[int]] = []
        pixels, grids = [], []
        for request in requests:
            picked = sample_evenly(len(request.frames), self.max_frames)
            content: list[dict[str, str]] = [{"type": "image"} for _ in picked]
            content.append({"type": "text", "text": caption_prompt(request, picked)})
            messages = [{"role": "system", "content": CAPTION_SYSTEM}, {"role": "user", "content": content}]
            text = tokenizer.apply_chat_template(
                messages, chat_template=self._chat_template, tokenize=False, add_generation_prompt=True
            )
            if picked:
                out = image_processor(
                    images=[request.frames[i] for i in picked], return_tensors="pt", **pixel_args
                )
                pixels.append(out["pixel_values"])
                grids.append(out["image_grid_thw"])
                text = expand_image_tokens(text, self._image_token, out["image_grid_thw"].tolist(), merge)
            rows.append(tokenizer(text, add_special_tokens=False)["input_ids"])
        width = max(len(row) for row in rows)
        pad = tokenizer.pad_token_id
        inputs: dict[str, Any] = {
            "input_ids": torch.tensor([[pad] * (width - len(row)) + row for row in rows]),
            "attention_mask": torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in rows]),
        }
        if pixels:
            inputs["pixel_values"] = torch.cat(pixels).to(model.dtype)
            inputs["image_grid_thw"] = torch.cat(grids)
        return inputs

    # -- captioning --------------------------------------------------------------------------

    def caption_batch(self, requests: Sequence[CaptionRequest]) -> list[list[str]]:
        import torch

        out: list[list[str]] = [[] for _ in requests]
        todo = [i for i, request in enumerate(requests) if not is_empty(request)]
        if not todo:
            return out
        model, tokenizer, _ = self._load()
        for begin in range(0, len(todo), self.batch_size):
            chunk = todo[begin : begin + self.batch_size]
            built = self.build_inputs([requests[i] for i in chunk])
            inputs = {k: v.to(model.device) for k, v in built.items()}
            with torch.inference_mode():
                generated = model.generate(
                    **inputs,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=False,
                    temperature=None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=tokenizer.pad_token_id,
                )
            new_tokens = generated[:, inputs["input_ids"].shape[1] :]
            for i, reply in zip(chunk, tokenizer.batch_decode(new_tokens, skip_special_tokens=True)):
                out[i] = parse_sentences(reply)
        return out
