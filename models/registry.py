"""Backends by role and name. Entries are import paths, so nothing heavy loads until used."""

from __future__ import annotations

import importlib
from typing import Any

from models.errors import UnknownBackend

_BACKENDS: dict[str, dict[str, str]] = {
    "asr": {
        "faster-whisper": "models.asr_faster_whisper:FasterWhisperASR",
        "openai-whisper": "models.asr_openai_whisper:OpenAIWhisperASR",
        "transformers-whisper": "models.asr_transformers_whisper:TransformersWhisperASR",
    },
    "text_embedder": {
        "sentence-transformers": "models.embed_sentence_transformers:SentenceTransformerEmbedder"
    },
    "ocr": {"rapidocr": "models.ocr_rapidocr:RapidOCRBackend"},
    "llm": {
        "transformers": "models.llm_transformers:TransformersLLM",
        "openai": "models.openai_compat:OpenAIChatLLM",
    },
    "voice_encoder": {
        "resemblyzer": "models.voice_resemblyzer:ResemblyzerEncoder",
        "campplus": "models.voice_campplus:CAMPPlusEncoder",
    },
    "face_encoder": {"dlib": "models.face_dlib:DlibFaceEncoder"},
    "image_embedder": {"transformers": "models.image_embed_transformers:TransformersImageEmbedder"},
    "captioner": {
        "composed": "models.caption_composed:ComposedCaptioner",
        "qwen-vl": "models.caption_qwen_vl:QwenVLCaptioner",
        "openai": "models.openai_compat:OpenAICaptioner",
    },
}


def register(role: str, name: str, target: str) -> None:
    """Add a backend: ``target`` is ``"package.module:Class"``."""
    _BACKENDS.setdefault(role, {})[name] = target


def available(role: str) -> list[str]:
    return sorted(_BACKENDS.get(role, {}))


def create(role: str, name: str, **options: Any) -> Any:
    """Build the backend ``name`` for ``role`` with its options (weights still load lazily)."""
    try:
        target = _BACKENDS[role][name]
    except KeyError:
        choices = ", ".join(available(role)) or "none"
        raise UnknownBackend(f"no {role} backend named '{name}' (available: {choices})") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**options)
