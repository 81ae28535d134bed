"""Settings: built once at the entry point from MMAGENT_* variables, then flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from mmagent.errors import SettingsError


def default_store() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("mmagent")) / "store"


@dataclass(frozen=True)
class Settings:
    store: Path
    clip_seconds: float = 30.0
    keyframe_interval: float = 2.0
    ocr: bool = True
    voices: bool = True  # speaker turns with voice embeddings
    faces: bool = True  # face tracks with face embeddings and crops
    decoder: str = "pyav"  # or "decord"
    asr_model: str | None = None  # a faster-whisper model folder; default: bundled tiny.en
    embed_model: str | None = None  # a sentence-transformers folder; default: bundled MiniLM
    llm: str = "transformers"  # or "none": extractive answers only
    llm_model: str | None = None  # a .gguf file, a model folder or a hub id; default: SmolLM2-135M
    device: str = "cpu"  # "cpu", "cuda", or "auto"
    threads: int = 0  # 0: all cores
    qdrant_url: str | None = None  # a Qdrant server / cluster instead of the embedded store
    collection: str = "mmagent"  # the collection on that server

    _ENV = {
        "store": "MMAGENT_HOME",
        "clip_seconds": "MMAGENT_CLIP_SECONDS",
        "keyframe_interval": "MMAGENT_KEYFRAME_INTERVAL",
        "ocr": "MMAGENT_OCR",
        "voices": "MMAGENT_VOICES",
        "faces": "MMAGENT_FACES",
        "decoder": "MMAGENT_DECODER",
        "asr_model": "MMAGENT_ASR_MODEL",
        "embed_model": "MMAGENT_EMBED_MODEL",
        "llm": "MMAGENT_LLM",
        "llm_model": "MMAGENT_LLM_MODEL",
        "device": "MMAGENT_DEVICE",
        "threads": "MMAGENT_THREADS",
        "qdrant_url": "MMAGENT_QDRANT_URL",
        "collection": "MMAGENT_COLLECTION",
    }

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, var in cls._ENV.items():
            if var in env and env[var] != "":
                values[name] = _parse(var, env[var], str(types[name]))
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["store"] = Path(values.get("store") or default_store()).expanduser()
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.clip_seconds <= 0 or self.keyframe_interval <= 0:
            raise SettingsError("clip_seconds and keyframe_interval must be positive")
        if self.decoder not in ("pyav", "decord"):
            raise SettingsError(f"decoder must be 'pyav' or 'decord', not {self.decoder!r}")
        if self.llm not in ("transformers", "none"):
            raise SettingsError(f"MMAGENT_LLM must be 'transformers' or 'none', not {self.llm!r}")
        if self.device not in ("cpu", "cuda", "auto") and not self.device.startswith("cuda:"):
            raise SettingsError(f"device must be cpu, cuda[:N] or auto, not {self.device!r}")

    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def resolved_threads(self) -> int:
        return self.threads or (os.cpu_count() or 1)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _parse(var: str, raw: str, type_name: str) -> Any:
    try:
        if "bool" in type_name:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if "float" in type_name:
            return float(raw)
        if "int" in type_name:
            return int(raw)
        return raw
    except ValueError:
        raise SettingsError(f"{var}={raw!r} is not a valid {type_name}") from None
